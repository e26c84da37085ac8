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
  # No server named: start a private, throwaway MariaDB (docs/testing.md) and stop it at exit.
  command -v mariadbd >/dev/null || { echo "Set SS_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306, or apt-get install mariadb-server" >&2; exit 2; }
  DBDIR=$(mktemp -d "${TMPDIR:-/tmp}/ss-phpunit-mariadb.XXXXXX")
  mariadb-install-db --no-defaults --datadir="$DBDIR/data" --user="$(id -un)" \
    --auth-root-authentication-method=normal --skip-test-db >"$DBDIR/install.log" 2>&1
  DBPORT=$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);')
  mariadbd --no-defaults --datadir="$DBDIR/data" --socket="$DBDIR/sock" --port="$DBPORT" --bind-address=127.0.0.1 \
    --user="$(id -un)" --skip-log-bin --log-error="$DBDIR/error.log" >/dev/null 2>&1 &
  DBPID=$!
  trap 'kill "$DBPID" 2>/dev/null; wait "$DBPID" 2>/dev/null; rm -rf "$DBDIR"' EXIT
  for _ in $(seq 1 300); do
    php -r 'exit(@fsockopen("127.0.0.1", (int) $argv[1]) ? 0 : 1);' "$DBPORT" && break
    kill -0 "$DBPID" 2>/dev/null || { echo "MariaDB did not start: $(tail -5 "$DBDIR/error.log")" >&2; exit 1; }
    sleep 0.1
  done
  URL=mysql://root@127.0.0.1:$DBPORT
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

WORK=$ROOT/.tmp/phpunit
export SS_WP_DB_PASSWORD=$pass
export SS_SHARED_SECRET=phpunit-shared-secret-0123456789-abcdef
# Port 9 (discard): nothing listens there, so "the sidecar is down" is real, not simulated.
export SS_SIDECAR_URL=http://127.0.0.1:9
"$ROOT/tests/wp/make-copy.sh" "$WORK/wordpress" "$db" "$user" "$host:$port" 8089 >/dev/null

export SS_PHPUNIT_WP_DIR=$WORK/wordpress
cd "$ROOT"
phpunit -c tests/php/phpunit.xml "$@"
