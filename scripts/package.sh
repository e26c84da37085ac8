#!/usr/bin/env bash
# `npm run package`: dist/scheduled-snapshots-<version>.zip, the WordPress plugin as an admin
# uploads it (Plugins → Add New → Upload Plugin): one top folder `scheduled-snapshots/` with
# whatever plugin-php/scheduled-snapshots/ holds now, its languages/ folder included, and
# nothing else — not the stand-in host (plugin-php/host-standin/), which is for demos and tests.
# The version is the plugin header's `Version:`. Output folder: $SS_PACKAGE_OUT or dist/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/plugin-php/scheduled-snapshots"
out="${SS_PACKAGE_OUT:-$root/dist}"
command -v zip >/dev/null 2>&1 || { echo "package: the zip command is missing (Debian: apt-get install zip)" >&2; exit 1; }
version="$(sed -n 's/^[ *]*Version:[[:space:]]*\([0-9A-Za-z.+-]*\).*/\1/p' "$src/scheduled-snapshots.php" | head -1)"
[ -n "$version" ] || { echo "package: no Version: header in $src/scheduled-snapshots.php" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/scheduled-snapshots"
# Copy, leaving out what is never part of a release (editor and OS leftovers, VCS files).
tar -C "$src" --exclude='.git*' --exclude='.DS_Store' --exclude='*~' --exclude='*.swp' --exclude='node_modules' -cf - . \
  | tar -C "$stage/scheduled-snapshots" -xf -
# WordPress looks for translations in languages/ (load_plugin_textdomain): ship it even when empty.
mkdir -p "$stage/scheduled-snapshots/languages"
if [ -d "$stage/scheduled-snapshots/host-standin" ] || grep -rlq "HostStandin" "$stage/scheduled-snapshots" 2>/dev/null; then
  echo "package: the stand-in host must not be part of the plugin zip" >&2
  exit 1
fi

mkdir -p "$out"
zipfile="$out/scheduled-snapshots-$version.zip"
rm -f "$zipfile"
# -X: no extra file attributes, so the same sources give the same listing on any machine.
(cd "$stage" && zip -qrX "$zipfile" scheduled-snapshots)
echo "$zipfile"
