#!/usr/bin/env bash
# Installs the Debian packages whose real servers some end-to-end tests start on loopback, when they are missing:
#   prometheus (and its promtool)  test/e2e/metrics-prometheus.test.ts, test/e2e/prometheus-alerts.test.ts
#   chromium                       test/e2e/dashboard-browser.test.ts
#   redis-server                   test/e2e/tenancy-redis.test.ts
# Usage: scripts/ensure-test-servers.sh [prometheus] [chromium] [redis-server]   (default: all three)
# Like local-kube's build, this runs once per machine (a minute or two), so `npm ci && npm test` passes on a fresh
# one. Without apt-get or the rights to use it, it says what to install and exits 0 locally (the tests then fail
# naming the package); under CI=true it exits 1.
set -uo pipefail
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(prometheus chromium redis-server)
missing=()
for pkg in "${wanted[@]}"; do
  case "$pkg" in
    prometheus) command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus) ;;
    chromium) command -v chromium >/dev/null || [ -x /usr/lib/chromium/chromium ] || missing+=(chromium) ;;
    redis-server) command -v redis-server >/dev/null || missing+=(redis-server) ;;
    *) echo "ensure-test-servers: unknown package $pkg (known: prometheus chromium redis-server)" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "--- test servers: installing Debian's ${missing[*]} for the end-to-end tests that start them (once per machine, a minute or two)"
# As root, apt-get itself; otherwise through sudo when it needs no password; else nothing can install.
if [ "$(id -u)" -eq 0 ]; then as_root=(); elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root=(sudo -n); else as_root=(); cannot=1; fi
if command -v apt-get >/dev/null && [ -z "${cannot:-}" ] &&
  "${as_root[@]}" apt-get update -qq && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
  echo "    installed: ${missing[*]}"
  exit 0
fi
echo "could not install ${missing[*]} (needs apt-get as root, or sudo without a password): install them, e.g. apt-get install -y ${missing[*]}; the tests that start them fail until then" >&2
[ "${CI:-}" = true ] && exit 1
exit 0
