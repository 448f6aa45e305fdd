#!/usr/bin/env bash
# Runs the official WorkOS and Clerk Node SDKs against `ferry sandbox`.
# Usage: bash tests/sdk/run.sh   (FERRY_BIN defaults to target/debug/ferry)
# Installs the SDKs from the committed lockfile (with Node 22 from the npm
# registry's `node` package), starts the sandbox on free ports with a small
# generated tenant, and runs the checks: @clerk/backend and WorkOS 7.x on
# the machine's Node 20, then WorkOS's newest major on Node 22. It always
# stops the sandbox.
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
export SANDBOX_READY="$work/ready.json"
export SANDBOX_EXPORT="$work/users.csv"
export SANDBOX_PASSWORDS="$work/passwords.csv"
node22="$here/node_modules/.bin/node"

echo "run.sh: @clerk/backend and @workos-inc/node 7.x on Node $(node --version)"
EXPECT_NODE_MAJOR=20 WORKOS_SDK=@workos-inc/node node --test clerk.test.mjs workos.test.mjs

echo "run.sh: @workos-inc/node, newest major, on Node $("$node22" --version)"
EXPECT_NODE_MAJOR=22 WORKOS_SDK=workos-node-12 "$node22" --test workos.test.mjs
