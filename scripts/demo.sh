#!/usr/bin/env bash
# npm run demo — everything on this machine, nothing from the internet but Debian/npm packages:
# a private MariaDB, a WordPress with the Scheduled Snapshots plugin and the host stand-in,
# three servers on the simulated "sandbox" cloud, and the sidecar. Ctrl-C stops it all.
#
# Environment (all optional):
#   SS_DEMO_PORT          WordPress port (default 8080)
#   SS_DEMO_SIDECAR_PORT  sidecar port (default 8787)
#   SS_DEMO_FRESH=1       start from an empty database and a new WordPress copy
#   SS_SITE_TIMEZONE      site timezone for a new copy, e.g. Europe/Berlin
#   SS_DEMO_FAIL          servers whose snapshots the sandbox refuses, by name: web-2 or web-1,web-3
#                         (their health turns failing, then critical; alerts go to the caught mail)
# State lives in .tmp/demo/ (database, WordPress copy, logs); it is kept between runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEMO=$ROOT/.tmp/demo
WP_PORT=${SS_DEMO_PORT:-8080}
SIDECAR_PORT=${SS_DEMO_SIDECAR_PORT:-8787}
mkdir -p "$DEMO"
LOG=$DEMO/demo.log
: >"$LOG"

fail() {
  echo "demo: $*" >&2
  exit 1
}

# ---- packages -------------------------------------------------------------------------
PACKAGES=(mariadb-server mariadb-client php-cli php-mysql php-curl php-xml php-mbstring wordpress)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    fail "missing Debian packages: ${missing[*]} — run as root, or: sudo apt-get install -y ${missing[*]}"
  fi
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; } >>"$LOG" 2>&1 \
    || fail "apt-get install ${missing[*]} failed; see $LOG"
fi
if [ ! -d "$ROOT/node_modules" ]; then
  (cd "$ROOT" && npm ci --no-audit --no-fund) >>"$LOG" 2>&1 || fail "npm ci failed; see $LOG"
fi

port_is_free() {
  php -r '$s = @stream_socket_server("tcp://127.0.0.1:" . $argv[1]); exit($s ? 0 : 1);' "$1"
}
free_port() {
  php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);'
}
wait_for_port() { # port seconds pid
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if ! port_is_free "$1"; then return 0; fi
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
port_is_free "$WP_PORT" || fail "port $WP_PORT is in use: set SS_DEMO_PORT to a free port"
port_is_free "$SIDECAR_PORT" || fail "port $SIDECAR_PORT is in use: set SS_DEMO_SIDECAR_PORT to a free port"

# ---- stop everything we start, whatever happens -----------------------------------------
PIDS=()
DB_STARTED=""
cleanup() {
  trap - EXIT INT TERM
  local pid
  # Newest first: WordPress, then the sidecar (lets it release its leases); then MariaDB.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[$i]}
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$DB_STARTED" ]; then "$ROOT/scripts/mariadb.sh" stop "$DEMO/mysql" || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- MariaDB ------------------------------------------------------------------------------
if [ "${SS_DEMO_FRESH:-}" = 1 ]; then
  rm -rf "$DEMO/mysql" "$DEMO/wordpress"
fi
if [ -d "$DEMO/mysql" ] && [ ! -d "$DEMO/mysql/data/mysql" ]; then
  rm -rf "$DEMO/mysql" # a half-made one from an interrupted first run
fi
DB_PORT=$(free_port)
DB_STARTED=1
"$ROOT/scripts/mariadb.sh" "$DEMO/mysql" "$DB_PORT" >>"$LOG" 2>&1 || fail "MariaDB did not start; see $DEMO/mysql/error.log"

# ---- WordPress ----------------------------------------------------------------------------
if [ ! -s "$DEMO/shared-secret" ]; then
  (umask 077 && php -r 'echo bin2hex(random_bytes(24));' >"$DEMO/shared-secret")
fi
export SS_SHARED_SECRET
SS_SHARED_SECRET=$(cat "$DEMO/shared-secret")
export SS_SIDECAR_URL=http://127.0.0.1:$SIDECAR_PORT
PASSWORD=$(php -r 'echo bin2hex(random_bytes(6));')
export SS_WP_TABLE_PREFIX=wp_
if [ ! -f "$DEMO/wordpress/wp-config.php" ]; then
  SS_ADMIN_PASSWORD=$PASSWORD SS_SERVERS=3 SS_SERVER_PROVIDER=sandbox \
    "$ROOT/tests/wp/setup-site.sh" "$DEMO/wordpress" wordpress root "127.0.0.1:$DB_PORT" "$WP_PORT" >>"$LOG" 2>&1 \
    || fail "setting up WordPress failed; see $LOG"
else
  # Same copy and data; new database port, addresses and admin password.
  { php "$ROOT/tests/wp/write-wp-config.php" "$DEMO/wordpress" wordpress root "127.0.0.1:$DB_PORT" "$WP_PORT" \
      && php "$ROOT/tests/wp/install.php" "$DEMO/wordpress" --activate --admin-password="$PASSWORD"; } >>"$LOG" 2>&1 \
    || fail "refreshing WordPress failed; see $LOG"
fi

# ---- mail: alerts go to a local catcher that writes them to a file -----------------------
MAIL_PORT=$(free_port)
MAIL_FILE="$DEMO/caught-mail.txt"
(cd "$ROOT" && exec setsid node scripts/smtp-catcher.mjs "$MAIL_PORT" "$MAIL_FILE") >"$DEMO/smtp.log" 2>&1 &
PIDS+=($!)
wait_for_port "$MAIL_PORT" 30 "${PIDS[-1]}" || fail "the mail catcher did not start; see $DEMO/smtp.log"

# ---- the sidecar --------------------------------------------------------------------------
# SS_DEMO_FAIL names servers (web-N, seeded with instance id sbx-i-(1000+N)) the sandbox fails.
FAIL_IDS=""
for name in $(echo "${SS_DEMO_FAIL:-}" | tr ',' ' '); do
  [[ "$name" =~ ^web-([0-9]+)$ ]] || fail "SS_DEMO_FAIL: \"$name\" is not a demo server name such as web-2"
  FAIL_IDS+="${FAIL_IDS:+, }\"sbx-i-$((1000 + BASH_REMATCH[1]))\""
done
echo "{ \"sandbox\": { \"type\": \"sandbox\", \"failCreate\": [ $FAIL_IDS ] } }" >"$DEMO/providers.json"
chmod 600 "$DEMO/providers.json" # credentials file: the sidecar warns when others can read it
(
  cd "$ROOT"
  export SS_DATABASE_URL="mysql://root@127.0.0.1:$DB_PORT/wordpress" SS_TABLE_PREFIX=wp_ \
    SS_PROVIDERS_FILE="$DEMO/providers.json" SS_LISTEN="127.0.0.1:$SIDECAR_PORT" \
    SS_SMTP_URL="smtp://127.0.0.1:$MAIL_PORT" SS_ALERT_EMAIL_FROM=snapshots@demo.test SS_ALERT_EMAIL_TO=admin@demo.test \
    SS_ADMIN_URL="http://127.0.0.1:$WP_PORT/wp-admin"
  exec setsid npm start
) >"$DEMO/sidecar.log" 2>&1 &
PIDS+=($!)
# npm start compiles the TypeScript first.
wait_for_port "$SIDECAR_PORT" 180 "${PIDS[-1]}" || fail "the sidecar did not start; see $DEMO/sidecar.log"

# ---- serve WordPress ----------------------------------------------------------------------
setsid "$ROOT/tests/wp/serve.sh" "$DEMO/wordpress" "$WP_PORT" >"$DEMO/wordpress.log" 2>&1 &
PIDS+=($!)
wait_for_port "$WP_PORT" 30 "${PIDS[-1]}" || fail "PHP's web server did not start; see $DEMO/wordpress.log"

echo "Log in at http://127.0.0.1:$WP_PORT/wp-admin/ as admin / $PASSWORD"
echo "Alert mails are caught in $MAIL_FILE (Settings → Send test message writes one there)."
if [ -n "$FAIL_IDS" ]; then
  echo "The sandbox fails every snapshot of: ${SS_DEMO_FAIL}. Assign a schedule to see the notice, the widget and the mail."
else
  echo "To see alerts, run with SS_DEMO_FAIL=web-2: the sandbox then fails that server's snapshots."
fi

# Run until Ctrl-C, or until one of the services stops by itself.
set +e
wait -n "${PIDS[@]}"
fail "a demo service stopped; see the logs in $DEMO (sidecar.log, wordpress.log, mysql/error.log)"
