#!/usr/bin/env bash
# Make and install a private WordPress with both plugins active and a few sandbox servers.
#
#   tests/wp/setup-site.sh DEST DB_NAME DB_USER DB_HOST:PORT PORT
#
# Environment:
#   SS_SHARED_SECRET, SS_SIDECAR_URL  written into wp-config.php as constants when set
#   SS_WP_DB_PASSWORD                 database password (default empty)
#   SS_ADMIN_PASSWORD                 password for user "admin" (default: generated)
#   SS_SERVERS                        how many servers to create (default 3)
#   SS_SERVER_PROVIDER                their provider slug (default sandbox)
#   SS_SITE_TIMEZONE                  site timezone (default: WordPress's, UTC)
#   SS_WP_TABLE_PREFIX                table prefix (default wp_)
# Prints one line on stdout: admin-password=…  (everything else goes to stderr).
# Then serve it with tests/wp/serve.sh DEST PORT.
set -euo pipefail

if [ "$#" -ne 5 ]; then
  echo "usage: $0 DEST DB_NAME DB_USER DB_HOST:PORT PORT" >&2
  exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEST=$1

"$HERE/make-copy.sh" "$@" >&2
PASSWORD=${SS_ADMIN_PASSWORD:-$(php -r 'echo bin2hex(random_bytes(8));')}
TZ_ARG=()
if [ -n "${SS_SITE_TIMEZONE:-}" ]; then TZ_ARG=(--timezone="$SS_SITE_TIMEZONE"); fi
php "$HERE/install.php" "$DEST" --fresh --activate --admin-password="$PASSWORD" "${TZ_ARG[@]}" >&2
php "$HERE/seed-servers.php" "$DEST" "${SS_SERVERS:-3}" "${SS_SERVER_PROVIDER:-sandbox}" >&2
echo "admin-password=$PASSWORD"
