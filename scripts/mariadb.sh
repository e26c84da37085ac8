#!/usr/bin/env bash
# The one launcher of a private, throwaway MariaDB, for the test suites, the reliability
# harness, the benchmark and the demo (TypeScript uses it through scripts/mariadb.ts).
#
#   scripts/mariadb.sh DIR PORT           start a server with its data in DIR on 127.0.0.1:PORT,
#                                         root without a password over TCP; prints the mysql:// URL
#                                         once it answers queries. Data already in DIR is kept, so
#                                         the same DIR and PORT restart the same server.
#   scripts/mariadb.sh stop DIR [SIGNAL]  stop it (SIGTERM: clean shutdown, the default;
#                                         SIGKILL: a crash InnoDB recovers from) and wait until it is gone
#
# The server runs in the background: its pid is in DIR/mariadbd.pid, its log in DIR/error.log.
set -euo pipefail

# Gone, or a zombie nobody reaps (when the launching script has exited, mariadbd is
# re-parented, and in some containers pid 1 never reaps it).
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}

if [ "${1:-}" = stop ]; then
  dir=$(realpath -m "${2:?usage: mariadb.sh stop DIR [SIGNAL]}")
  signal=${3:-TERM}
  [ -f "$dir/mariadbd.pid" ] || exit 0
  pid=$(cat "$dir/mariadbd.pid")
  [ -n "$pid" ] && alive "$pid" || exit 0
  kill -s "${signal#SIG}" "$pid" 2>/dev/null || true
  # A clean shutdown flushes InnoDB: give it a minute before forcing it.
  for _ in $(seq 1 600); do alive "$pid" || exit 0; sleep 0.1; done
  kill -s KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do alive "$pid" || exit 0; sleep 0.1; done
  echo "MariaDB (pid $pid, $dir) did not stop" >&2
  exit 1
fi

dir=$(realpath -m "${1:?usage: mariadb.sh DIR PORT}")
port=${2:?usage: mariadb.sh DIR PORT}
user=$(id -un)
# A temporary directory of its own: servers installed at the same moment in a shared /tmp can
# trip over each other's temporary tables ("Could not remove temporary table '/tmp/#sql-…'").
mkdir -p "$dir/tmp"
if [ ! -d "$dir/data/mysql" ]; then
  mariadb-install-db --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" --user="$user" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
    || { echo "mariadb-install-db failed; see $dir/install.log" >&2; exit 1; }
fi
# Throwaway data: no binary log, and commits flushed to the OS rather than the disk (a killed
# mariadbd loses nothing; only a machine crash would).
mariadbd --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" --socket="$dir/sock" --port="$port" \
  --bind-address=127.0.0.1 --user="$user" --skip-log-bin --innodb-flush-log-at-trx-commit=2 \
  --max-connections=500 --innodb-buffer-pool-size=256M \
  --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" </dev/null >/dev/null 2>&1 &
pid=$!
# InnoDB recovery after a crash can take a while on a busy machine: up to a minute.
for _ in $(seq 1 300); do
  if mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
    echo "mysql://root@127.0.0.1:$port"
    exit 0
  fi
  alive "$pid" || break
  sleep 0.2
done
kill -s KILL "$pid" 2>/dev/null || true
echo "MariaDB did not start; see $dir/error.log: $(tail -n 3 "$dir/error.log" 2>/dev/null | tr '\n' ' ')" >&2
exit 1
