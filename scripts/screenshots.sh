#!/usr/bin/env bash
# Copy the README's screenshots (docs/screenshots/) from the browser suite's last run:
#
#   tests/e2e/run.sh && scripts/screenshots.sh
#
# The suite writes a full-page screenshot of every screen it visits to tests/artifacts/e2e/.
set -euo pipefail
cd "$(dirname "$0")/.."
src=tests/artifacts/e2e
dest=docs/screenshots
mkdir -p "$dest"
pick() {
  local found
  found=$(ls "$src" 2>/dev/null | grep -E -- "$1" | sort | tail -1 || true)
  if [ -z "$found" ]; then
    echo "No screenshot matching $1 in $src: run tests/e2e/run.sh first." >&2
    exit 1
  fi
  cp "$src/$found" "$dest/$2"
  echo "$dest/$2 <- $found"
}
pick '-admin-snapshot-row-hovered\.png$' snapshots-list.png
pick '-admin-server-web-1-updated\.png$' server-box.png
pick '-admin-snapshot-protected\.png$' snapshot.png
pick '-deutsch-de-snapshot\.png$' snapshot-de.png
