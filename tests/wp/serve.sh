#!/usr/bin/env bash
# Serve a WordPress copy made by setup-site.sh with PHP's built-in server.
#
#   tests/wp/serve.sh DEST PORT
#
# Runs in the foreground (exec): stop it by its pid. Four workers, because a single worker
# serialises every request (admin pages load several assets at once).
set -euo pipefail
if [ "$#" -ne 2 ]; then
  echo "usage: $0 DEST PORT" >&2
  exit 2
fi
export PHP_CLI_SERVER_WORKERS=${PHP_CLI_SERVER_WORKERS:-4}
exec php -d display_errors=0 -S "127.0.0.1:$2" -t "$1"
