#!/usr/bin/env bash
# The browser suite: Chromium (Debian's, driven by playwright-core) through real wp-admin,
# with the real sidecar and a real MariaDB. Everything it starts, it stops on exit.
#
#   tests/e2e/run.sh                      start a private MariaDB for the run
#   SS_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306 tests/e2e/run.sh
#   tests/e2e/run.sh -t 'Settings'       extra arguments go to vitest (each flow makes its own
#                                         data, so any one runs alone)
#   tests/e2e/run.sh --up                 bring everything up, print the addresses, wait (Ctrl-C stops)
#
# Steps: build the sidecar (npm run build) → WordPress copy with both plugins and thirteen
# sandbox servers (tests/wp/setup-site.sh) plus an editor and a subscriber → providers file
# (sandbox, short latency, deletes failing for web-3's instance) → sidecar and php -S on free
# ports → vitest -c vitest.e2e.config.ts. Screenshots: tests/artifacts/e2e/. Logs: .tmp/e2e/;
# after a failure the WordPress copy and the database are kept there too, after a pass they go.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$ROOT/.tmp/e2e
ARTIFACTS=$ROOT/tests/artifacts/e2e
UP_ONLY=0
if [ "${1:-}" = "--up" ]; then UP_ONLY=1; shift; fi

say() { echo "e2e: $*" >&2; }
die() { say "$*"; exit 1; }

for bin in php node chromium; do
  command -v "$bin" >/dev/null || die "$bin is not installed (apt-get install php-cli php-mysql php-curl wordpress chromium mariadb-server)"
done
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing: apt-get install chromium (the suite never downloads a browser)"

rm -rf "$WORK" "$ARTIFACTS"
mkdir -p "$WORK" "$ARTIFACTS"

# ---- stop everything we start, whatever happens --------------------------------------------
PIDS=()
DB_DIR=""
DROP_DB=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local i pid
  # Newest first: vitest (and its Chromium), WordPress, the sidecar; then the database.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[$i]}
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -eq 0 ] && [ -n "$DROP_DB" ]; then
    php -r '
      mysqli_report(MYSQLI_REPORT_OFF);
      $l = @mysqli_connect($argv[1], $argv[2], (string) getenv("SS_WP_DB_PASSWORD"), "", (int) $argv[3]);
      if ($l) { mysqli_query($l, "DROP DATABASE IF EXISTS `" . $argv[4] . "`"); }' \
      "$DB_HOST" "$DB_USER" "$DB_PORT" "$DROP_DB" 2>/dev/null || true
  fi
  if [ -n "$DB_DIR" ]; then
    "$ROOT/scripts/mariadb.sh" stop "$DB_DIR" || true
    [ "$status" -eq 0 ] && rm -rf "$DB_DIR"
  fi
  if [ "$status" -ne 0 ]; then
    say "kept for inspection: $WORK (sidecar.log, wordpress.log, wordpress/wp-content/debug.log)"
  else
    rm -rf "$WORK/wordpress" # 60 MB, made again by every run; the logs stay
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_http() { # url seconds pid
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$1" && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# ---- database ------------------------------------------------------------------------------
URL=${SS_TEST_MYSQL_URL:-}
if [ -z "$URL" ]; then
  command -v mariadbd >/dev/null || die "set SS_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306, or apt-get install mariadb-server"
  DB_DIR=$WORK/mariadb
  URL=$("$ROOT/scripts/mariadb.sh" "$WORK/mariadb" "$(free_port)") || die "MariaDB did not start; see $WORK/mariadb/install.log and error.log"
fi
# mysql://user[:password]@host[:port][/database]
rest=${URL#mysql://}
[ "$rest" != "$URL" ] || die "SS_TEST_MYSQL_URL must start with mysql://"
creds=${rest%%@*}; hostpart=${rest#*@}
if [ "$creds" = "$rest" ]; then creds=root; hostpart=$rest; fi
DB_USER=${creds%%:*}; DB_PASS=''
if [ "$creds" != "$DB_USER" ]; then DB_PASS=${creds#*:}; fi
hostport=${hostpart%%/*}
DB_HOST=${hostport%%:*}; DB_PORT=3306
if [ "$DB_HOST" != "$hostport" ]; then DB_PORT=${hostport#*:}; fi
DB_USER=$(php -r 'echo rawurldecode($argv[1]);' "$DB_USER")
DB_PASS=$(php -r 'echo rawurldecode($argv[1]);' "$DB_PASS")
# A database of its own, whatever the URL names: the suite may share a server with other runs.
DB_NAME=ss_e2e_$(php -r 'echo bin2hex(random_bytes(4));')
DROP_DB=$DB_NAME
export SS_WP_DB_PASSWORD=$DB_PASS
export SS_WP_TABLE_PREFIX=wp_

# ---- sidecar build ----------------------------------------------------------------------------
say "building the sidecar (npm run build)"
(cd "$ROOT" && npm run build --silent) >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; die "npm run build failed"; }

# ---- WordPress ----------------------------------------------------------------------------------
WP_PORT=$(free_port)
SIDECAR_PORT=$(free_port)
while [ "$SIDECAR_PORT" = "$WP_PORT" ]; do SIDECAR_PORT=$(free_port); done
SECRET=$(php -r 'echo "e2e-" . bin2hex(random_bytes(24));')
ADMIN_PASSWORD=$(php -r 'echo bin2hex(random_bytes(8));')
export SS_SHARED_SECRET=$SECRET
export SS_SIDECAR_URL=http://127.0.0.1:$SIDECAR_PORT
say "setting up WordPress in $WORK/wordpress (database $DB_NAME)"
SS_ADMIN_PASSWORD=$ADMIN_PASSWORD SS_SERVERS=13 SS_SERVER_PROVIDER=sandbox \
  "$ROOT/tests/wp/setup-site.sh" "$WORK/wordpress" "$DB_NAME" "$DB_USER" "$DB_HOST:$DB_PORT" "$WP_PORT" \
  >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log" >&2; die "WordPress set-up failed"; }
EDITOR_PASSWORD=$(php -r 'echo bin2hex(random_bytes(8));')
SUBSCRIBER_PASSWORD=$(php -r 'echo bin2hex(random_bytes(8));')
SS_E2E_EDITOR_PASSWORD=$EDITOR_PASSWORD SS_E2E_SUBSCRIBER_PASSWORD=$SUBSCRIBER_PASSWORD \
  php "$ROOT/tests/e2e/fixtures.php" "$WORK/wordpress" >"$WORK/fixtures.json" 2>>"$WORK/setup.log" \
  || { cat "$WORK/setup.log" >&2; die "creating the e2e users failed"; }
FAIL_DELETE_INSTANCE=$(node -e 'const f=require(process.argv[1]);console.log(f.servers.find((s)=>s.name==="web-3").instanceId)' "$WORK/fixtures.json") \
  || die "fixtures.json has no server web-3"

# ---- sidecar -------------------------------------------------------------------------------------
# Snapshots become available 1.5 s after they are asked for; deletes of web-3's snapshots fail.
printf '{ "sandbox": { "type": "sandbox", "latencyMs": 1500, "failDelete": ["%s"] } }\n' "$FAIL_DELETE_INSTANCE" >"$WORK/providers.json"
(
  cd "$ROOT"
  export SS_DATABASE_URL="mysql://$(php -r 'echo rawurlencode($argv[1]);' "$DB_USER"):$(php -r 'echo rawurlencode($argv[1]);' "$DB_PASS")@$DB_HOST:$DB_PORT/$DB_NAME" \
    SS_TABLE_PREFIX=wp_ SS_PROVIDERS_FILE="$WORK/providers.json" SS_LISTEN="127.0.0.1:$SIDECAR_PORT" \
    SS_TICK_MS=500 SS_INSTANCE_ID=e2e-sidecar
  exec setsid node dist/sidecar/main.js
) >"$WORK/sidecar.log" 2>&1 &
PIDS+=($!)
wait_http "$SS_SIDECAR_URL/healthz" 60 "${PIDS[-1]}" || { tail -20 "$WORK/sidecar.log" >&2; die "the sidecar did not start"; }

# ---- WordPress's web server -------------------------------------------------------------------
PHP_CLI_SERVER_WORKERS=4 setsid "$ROOT/tests/wp/serve.sh" "$WORK/wordpress" "$WP_PORT" >"$WORK/wordpress.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$WP_PORT/wp-login.php" 30 "${PIDS[-1]}" || { tail -20 "$WORK/wordpress.log" >&2; die "php -S did not start"; }

export SS_E2E_BASE_URL=http://127.0.0.1:$WP_PORT
export SS_E2E_SIDECAR_URL=$SS_SIDECAR_URL
export SS_E2E_ADMIN_PASSWORD=$ADMIN_PASSWORD
export SS_E2E_EDITOR_PASSWORD=$EDITOR_PASSWORD
export SS_E2E_SUBSCRIBER_PASSWORD=$SUBSCRIBER_PASSWORD
export SS_E2E_SECRET=$SECRET
export SS_E2E_FIXTURES=$WORK/fixtures.json
export SS_E2E_DEBUG_LOG=$WORK/wordpress/wp-content/debug.log
export SS_E2E_ARTIFACTS=$ARTIFACTS
export SS_E2E_WORK=$WORK

if [ "$UP_ONLY" = 1 ]; then
  echo "WordPress: $SS_E2E_BASE_URL/wp-admin/  admin / $ADMIN_PASSWORD"
  echo "Sidecar:   $SS_SIDECAR_URL   logs: $WORK"
  echo "Run the suite against it from another shell with these variables:"
  env | grep -E '^SS_E2E_' | sed 's/^/  export /'
  echo "Ctrl-C stops everything."
  wait "${PIDS[@]}"
  exit 0
fi

# ---- the suite --------------------------------------------------------------------------------------
say "running the browser suite (screenshots: tests/artifacts/e2e/)"
# Plain text when the output goes to a file or a pipe (tests/run-all.sh reads the summary line).
[ -t 1 ] || export NO_COLOR=1
(cd "$ROOT" && exec setsid npx vitest run -c vitest.e2e.config.ts "$@") &
PIDS+=($!)
wait "${PIDS[-1]}"
