#!/usr/bin/env bash
# Installs the Debian packages the suites need when they are missing (as root; otherwise says
# what to install). Used by `npm test` (tests/run-all.sh) and by CI (.ci/run).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
export PATH="$PATH:/usr/sbin"
need=()
command -v mariadbd >/dev/null 2>&1 || need+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
command -v php >/dev/null 2>&1 || need+=(php-cli)
php -m 2>/dev/null | grep -qi '^mysqli$' || need+=(php-mysql)
php -m 2>/dev/null | grep -qi '^curl$' || need+=(php-curl)
php -m 2>/dev/null | grep -qi '^dom$' || need+=(php-xml)
php -m 2>/dev/null | grep -qi '^mbstring$' || need+=(php-mbstring)
[ -f /usr/share/wordpress/wp-load.php ] || need+=(wordpress)
# WordPress's own German, so a test user (and the demo's profile) can switch to Deutsch.
[ -f /usr/share/wordpress/wp-content/languages/de_DE.mo ] || need+=(wordpress-l10n)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v phpunit >/dev/null 2>&1 || need+=(phpunit)
command -v phpcs >/dev/null 2>&1 || need+=(php-codesniffer)
command -v zip >/dev/null 2>&1 || need+=(zip)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "Missing Debian packages: ${need[*]} — run as root, or: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${need[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
