#!/usr/bin/env bash
# The project's test command (`npm test`): build, unit tests, then interop tests against
# smbclient, smbtorture and impacket. `scripts/test.sh unit` runs only the unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-all}"
case "$mode" in
  all | unit | interop) ;;
  *)
    echo "usage: scripts/test.sh [all|unit|interop]" >&2
    exit 2
    ;;
esac

if [ ! -d node_modules ]; then
  echo "== npm install (node_modules missing)"
  npm install
fi

if [ "$mode" != unit ]; then
  echo "== peers"
  bash scripts/install-peers.sh
fi

echo "== build"
npx tsc -p tsconfig.json
# The tests, scripts and benchmarks are run through tsx, which does not type-check: tsc does.
npx tsc -p tsconfig.check.json

# Node 20's default reporter is TAP when not on a terminal; spec is easier to read in CI logs.
reporter=(--test-reporter=spec)

declare -A result=()
declare -A elapsed=()
phases=()

run_phase() {
  local name="$1"
  shift
  phases+=("$name")
  echo
  echo "== $name tests"
  local t0=$SECONDS
  if "$@"; then result[$name]=passed; else result[$name]=FAILED; fi
  elapsed[$name]=$((SECONDS - t0))
}

if [ "$mode" != interop ]; then
  mapfile -t unit_files < <(find test/unit -name '*.test.ts' | sort)
  if [ "${#unit_files[@]}" -gt 0 ]; then
    run_phase unit node --import tsx --test "${reporter[@]}" "${unit_files[@]}"
  fi
fi

if [ "$mode" != unit ]; then
  mapfile -t interop_files < <(find test/interop -name '*.test.ts' | sort)
  if [ "${#interop_files[@]}" -gt 0 ]; then
    # One file at a time: they start servers and move large files, and 2 cores is the norm.
    run_phase interop node --import tsx --test --test-concurrency=1 "${reporter[@]}" "${interop_files[@]}"
  fi
fi

echo
echo "== summary"
status=0
for p in "${phases[@]}"; do
  printf '  %-8s %-7s %4ss\n' "$p" "${result[$p]}" "${elapsed[$p]}"
  [ "${result[$p]}" = passed ] || status=1
done
if [ "$status" -eq 0 ]; then echo "all tests passed"; else echo "SOME TESTS FAILED"; fi
exit "$status"
