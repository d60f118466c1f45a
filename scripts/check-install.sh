#!/usr/bin/env bash
# Checks `npx infergate` the ways a user gets it (issue #11): in this checkout after a build, after a rebuild
# and after a plain tsc into an emptied dist/, and from an `npm pack` tarball installed into an empty project.
# Run from the repository root after `npm ci && npm run build`.
set -euo pipefail
root=$(pwd)
check() { # $1: where, then the command
  local where=$1; shift
  if out=$("$@" 2>&1) && grep -q 'Usage: infergate' <<<"$out"; then echo "ok: npx infergate --help ($where)"
  else echo "FAILED: npx infergate --help ($where):" >&2; echo "$out" | tail -5 >&2; exit 1; fi
}
check 'after the build' npx --no-install infergate --help
npm run build --silent
check 'after a rebuild' npx --no-install infergate --help
# A plain compile into an emptied dist/ (what the bench programs' usage lines do) sets no run bit on anything.
rm -rf dist && npx --no-install tsc -p tsconfig.json
check 'after rm -rf dist and a plain tsc' npx --no-install infergate --help
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tgz=$(npm pack --silent --pack-destination "$tmp" | tail -1)
(
  cd "$tmp"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --prefer-offline --silent "$tmp/$tgz"
  check 'from the npm pack tarball' npx --no-install infergate --help
)
