#!/usr/bin/env bash
# Finds local-kube (a real kube-apiserver + etcd on loopback, for the Kubernetes integration tests in
# test/e2e/kube-*.test.ts) and builds it if its cache is cold (about 5 minutes on 2 cores, once per machine).
# Prints the script's path for LOCAL_KUBE. Fails loudly: the integration tests must run, not be skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
found=
for candidate in "${LOCAL_KUBE:-}" "$root/../shared/tools/local-kube" /work/shared/tools/local-kube; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then found=$candidate; break; fi
done
if [ -z "$found" ]; then
  echo "local-kube not found (looked at \$LOCAL_KUBE, $root/../shared/tools/local-kube, /work/shared/tools/local-kube)." >&2
  echo "The Kubernetes integration tests need it: set LOCAL_KUBE=/path/to/local-kube." >&2
  exit 1
fi
echo "local-kube: $found (building kube-apiserver unless cached)" >&2
"$found" build >&2
echo "$found"
