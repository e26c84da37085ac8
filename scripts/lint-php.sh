#!/usr/bin/env bash
# The PHP half of `npm run lint`: `php -l` on every PHP file we own (a syntax error in the plugin
# is a fatal on every wp-admin page), then PHP_CodeSniffer with phpcs.xml.dist.
# Needs php-cli and php-codesniffer (scripts/debian-packages.sh installs both).
set -uo pipefail
cd "$(dirname "$0")/.."
for bin in php phpcs; do
  command -v "$bin" >/dev/null || { echo "$bin is not installed: run scripts/debian-packages.sh as root (or apt-get install php-cli php-codesniffer)" >&2; exit 2; }
done
status=0
mapfile -d '' files < <(find plugin-php tests -name '*.php' -not -path 'tests/artifacts/*' -print0 | sort -z)
for f in "${files[@]}"; do
  out=$(php -l "$f" 2>&1) || { echo "$out" >&2; status=1; }
done
echo "php -l: ${#files[@]} files checked"
phpcs --no-colors -q || status=1
[ "$status" -eq 0 ] && echo "phpcs: no findings"
exit "$status"
