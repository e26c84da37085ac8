#!/usr/bin/env bash
# Start a private, throwaway MariaDB (docs/testing.md) in DIR on PORT, root without a password
# over TCP. Prints the mysql:// URL. Stop it with: kill "$(cat DIR/mariadbd.pid)".
set -euo pipefail
dir=$(realpath -m "${1:?usage: mariadb.sh DIR PORT}")
port=${2:?usage: mariadb.sh DIR PORT}
# A temporary directory of its own: servers installed at the same moment in a shared /tmp can
# trip over each other's temporary tables ("Could not remove temporary table '/tmp/#sql-…'").
mkdir -p "$dir/tmp"
if [ ! -d "$dir/data/mysql" ]; then
  mariadb-install-db --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" --user=root \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1
fi
mariadbd --no-defaults --datadir="$dir/data" --tmpdir="$dir/tmp" --socket="$dir/sock" --port="$port" \
  --bind-address=127.0.0.1 --user=root --skip-log-bin --innodb-flush-log-at-trx-commit=2 \
  --max-connections=500 --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" </dev/null >/dev/null 2>&1 &
for _ in $(seq 1 150); do
  if mariadb --no-defaults -h127.0.0.1 -P"$port" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
    echo "mysql://root@127.0.0.1:$port"
    exit 0
  fi
  sleep 0.2
done
echo "MariaDB did not start; see $dir/error.log" >&2
exit 1
