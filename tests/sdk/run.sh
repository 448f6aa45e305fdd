#!/usr/bin/env bash
# Runs the official WorkOS and Clerk Node SDKs against `ferry sandbox`.
# Usage: bash tests/sdk/run.sh   (FERRY_BIN defaults to target/debug/ferry)
# Installs the SDKs from the committed lockfile, starts the sandbox on free
# ports with a small generated tenant, runs `node --test`, and always stops
# the sandbox.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ferry="${FERRY_BIN:-$root/target/debug/ferry}"
[[ "$ferry" = /* ]] || ferry="$root/$ferry"
if [[ ! -x "$ferry" ]]; then
  echo "run.sh: no ferry binary at $ferry (cargo build first, or set FERRY_BIN)" >&2
  exit 2
fi

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

work="$(mktemp -d)"
sandbox_pid=""
cleanup() {
  if [[ -n "$sandbox_pid" ]]; then
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$ferry" sandbox --clerk-port 0 --workos-port 0 --users 200 --orgs 8 --seed 11 \
  --export "$work/users.csv" --passwords "$work/passwords.csv" \
  --ready-file "$work/ready.json" >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!

for _ in $(seq 1 300); do
  [[ -s "$work/ready.json" ]] && break
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    echo "run.sh: ferry sandbox exited early:" >&2
    cat "$work/sandbox.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ ! -s "$work/ready.json" ]]; then
  echo "run.sh: ferry sandbox did not become ready in 30 s" >&2
  cat "$work/sandbox.log" >&2
  exit 1
fi

cd "$here"
SANDBOX_READY="$work/ready.json" \
SANDBOX_EXPORT="$work/users.csv" \
SANDBOX_PASSWORDS="$work/passwords.csv" \
  node --test sdk.test.mjs
