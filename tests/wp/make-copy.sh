#!/usr/bin/env bash
# Make a private WordPress copy for tests and the demo (no install yet).
#
#   tests/wp/make-copy.sh DEST DB_NAME DB_USER DB_HOST:PORT PORT
#
# - copies Debian's /usr/share/wordpress *following links* (cp -a would break the
#   relative symlinks Debian uses, e.g. underscore.js);
# - writes its own wp-config.php: DB credentials (password from SS_WP_DB_PASSWORD, default
#   empty), fixed salts, debug log to DEST/wp-content/debug.log, no display, no WP-Cron,
#   no automatic updates, outbound HTTP blocked except localhost and the site's own host;
# - defines SS_SHARED_SECRET and SS_SIDECAR_URL from the environment when they are set;
# - links both plugins (this checkout's plugin-php/*) into wp-content/plugins, and the
#   offline mu-plugin (tests/wp/mu-plugins) into wp-content/mu-plugins;
# - creates the database if it does not exist.
# The table prefix is read at run time from SS_WP_TABLE_PREFIX (default wp_), so PHPUnit can
# share a copy with a browser test while keeping its own tables.
set -euo pipefail

if [ "$#" -ne 5 ]; then
  echo "usage: $0 DEST DB_NAME DB_USER DB_HOST:PORT PORT" >&2
  exit 2
fi
DEST=$1 DB_NAME=$2 DB_USER=$3 DB_HOST=$4 PORT=$5
WP_SRC=${SS_WP_SOURCE:-/usr/share/wordpress}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ ! -f "$WP_SRC/wp-settings.php" ]; then
  echo "WordPress is not installed at $WP_SRC: apt-get install wordpress (or set SS_WP_SOURCE)." >&2
  exit 1
fi
case "$DB_NAME" in *[!A-Za-z0-9_]*|'') echo "DB_NAME must be letters, digits and _ only: $DB_NAME" >&2; exit 2;; esac
case "$PORT" in *[!0-9]*|'') echo "PORT must be a number: $PORT" >&2; exit 2;; esac

rm -rf "$DEST"
mkdir -p "$DEST"
tar -C "$WP_SRC" --exclude=./wp-content/languages --exclude=./wp-config.php -chf - . | tar -xf - -C "$DEST"
rm -f "$DEST/wp-config.php"
mkdir -p "$DEST/wp-content/plugins" "$DEST/wp-content/uploads" "$DEST/wp-content/mu-plugins" "$DEST/wp-content/languages"
# WordPress's own German (Debian's wordpress-l10n), so a user can pick Deutsch in the profile.
for mo in de_DE admin-de_DE admin-network-de_DE continents-cities-de_DE; do
  [ -f "$WP_SRC/wp-content/languages/$mo.mo" ] && cp "$WP_SRC/wp-content/languages/$mo.mo" "$DEST/wp-content/languages/"
done
# Test/demo copies are offline: keep core from calling wordpress.org (see the file).
ln -sfn "$HERE/mu-plugins/ss-offline-test-site.php" "$DEST/wp-content/mu-plugins/ss-offline-test-site.php"
ln -sfn "$ROOT/plugin-php/scheduled-snapshots" "$DEST/wp-content/plugins/scheduled-snapshots"
ln -sfn "$ROOT/plugin-php/host-standin" "$DEST/wp-content/plugins/ss-host-standin"

# Values are written through PHP's var_export so quotes in a secret cannot break the file.
php "$HERE/write-wp-config.php" "$DEST" "$DB_NAME" "$DB_USER" "$DB_HOST" "$PORT"
php "$HERE/create-database.php" "$DB_HOST" "$DB_USER" "$DB_NAME"
