#!/usr/bin/env bash
# PHPUnit for the WordPress plugin, against a real WordPress and a real MySQL/MariaDB.
#
#   SS_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 tests/php/run.sh [phpunit arguments…]
#   tests/php/run.sh          (no URL: starts a private MariaDB for the run, then stops it)
#
# Needs: php-cli, php-mysql, Debian's wordpress (/usr/share/wordpress) and phpunit (9.6).
# Makes a WordPress copy under .tmp/phpunit/ (database from the URL's path, default
# ss_phpunit), then runs PHPUnit; the bootstrap installs WordPress with its own table
# prefix (phpunit_) and wraps every test in a transaction. Nothing listens on the sidecar
# address the copy is given: tests fake the sidecar through WordPress's pre_http_request
# filter, or see it down.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
for bin in php phpunit; do
  command -v "$bin" >/dev/null || { echo "$bin is not installed (apt-get install php-cli php-mysql phpunit wordpress)" >&2; exit 2; }
done

URL=${SS_TEST_MYSQL_URL:-}
if [ -z "$URL" ]; then
  # No server named: start a private, throwaway MariaDB (scripts/mariadb.sh) and stop it at exit.
  command -v mariadbd >/dev/null || { echo "Set SS_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306, or apt-get install mariadb-server" >&2; exit 2; }
  DBDIR=$(mktemp -d "${TMPDIR:-/tmp}/ss-phpunit-mariadb.XXXXXX")
  trap '"$ROOT/scripts/mariadb.sh" stop "$DBDIR"; rm -rf "$DBDIR"' EXIT
  DBPORT=$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);')
  URL=$("$ROOT/scripts/mariadb.sh" "$DBDIR" "$DBPORT")
fi

# mysql://user[:password]@host[:port][/database]
rest=${URL#mysql://}
if [ "$rest" = "$URL" ]; then echo "SS_TEST_MYSQL_URL must start with mysql://" >&2; exit 2; fi
creds=${rest%%@*}; hostpart=${rest#*@}
if [ "$creds" = "$rest" ]; then creds=root; hostpart=$rest; fi
user=${creds%%:*}; pass=''
if [ "$creds" != "$user" ]; then pass=${creds#*:}; fi
hostport=${hostpart%%/*}; db=''
if [ "$hostport" != "$hostpart" ]; then db=${hostpart#*/}; fi
db=${db%%\?*}
host=${hostport%%:*}; port=3306
if [ "$host" != "$hostport" ]; then port=${hostport#*:}; fi
user=$(php -r 'echo rawurldecode($argv[1]);' "$user")
pass=$(php -r 'echo rawurldecode($argv[1]);' "$pass")
db=${db:-ss_phpunit}

# SS_PHPUNIT_SUITE=wpcd (tests/php-wpcd/run.sh): the real WPCloudDeploy and Meta Box instead
# of the host stand-in, in a copy and a database of their own.
SUITE=${SS_PHPUNIT_SUITE:-plugin}
WORK=$ROOT/.tmp/phpunit
CONFIG=tests/php/phpunit.xml
if [ "$SUITE" = wpcd ]; then WORK=$ROOT/.tmp/phpunit-wpcd; CONFIG=tests/php-wpcd/phpunit.xml; db=${db}_wpcd; fi
export SS_WP_DB_PASSWORD=$pass
export SS_SHARED_SECRET=phpunit-shared-secret-0123456789-abcdef
# Port 9 (discard): nothing listens there, so "the sidecar is down" is real, not simulated.
export SS_SIDECAR_URL=http://127.0.0.1:9
"$ROOT/tests/wp/make-copy.sh" "$WORK/wordpress" "$db" "$user" "$host:$port" 8089 >/dev/null
if [ "$SUITE" = wpcd ]; then
  "$ROOT/tests/php-wpcd/add-wpcd.sh" "$WORK/wordpress"
  # Some tests start the real sidecar (node dist/sidecar/main.js) against the copy's database.
  (cd "$ROOT" && npm run -s build)
  export SS_PHPUNIT_DATABASE_URL="mysql://$(php -r 'echo rawurlencode($argv[1]);' "$user")$( [ -n "$pass" ] && php -r 'echo ":" . rawurlencode($argv[1]);' "$pass")@$host:$port/$db"
fi

export SS_PHPUNIT_WP_DIR=$WORK/wordpress
cd "$ROOT"
phpunit -c "$CONFIG" "$@"
