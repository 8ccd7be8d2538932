#!/usr/bin/env bash
# Builds everything and runs every test. Prints "N passed, N failed, N skipped" at the end.
# Usage: ./test.sh            (all tests)
#        ./test.sh --fast     (unit tests only, no real-process integration tests)
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if [ -x scripts/install-deps.sh ] && [ "${1:-}" != "--fast" ]; then
  scripts/install-deps.sh || { echo "dependency installation failed"; exit 1; }
fi

dotnet build Capstan.slnx -c Release -warnaserror 2>&1 | tail -n 30
build=${PIPESTATUS[0]}
if [ "$build" -ne 0 ]; then
  echo "0 passed, 1 failed, 0 skipped (build failed)"
  exit 1
fi

log=$(mktemp)
run_tests() {
  dotnet test "$@" -c Release --no-build --logger "console;verbosity=minimal" 2>&1 | tee -a "$log"
  local status=${PIPESTATUS[0]}
  if [ "$status" -ne 0 ]; then rc=$status; fi
}
rc=0
if [ "${1:-}" = "--fast" ]; then
  run_tests Capstan.slnx --filter "Category!=Integration"
else
  # The multi-process cluster tests (tests/Capstan.Integration.Tests) run on their own afterwards,
  # so their 2 s etcd sessions do not compete with the other test assemblies for the CPU.
  run_tests Capstan.slnx --filter "FullyQualifiedName!~Capstan.Integration.Tests"
  run_tests tests/Capstan.Integration.Tests/Capstan.Integration.Tests.csproj
fi
awk '/^(Passed|Failed)! +- +Failed:/ { for (i=1;i<=NF;i++){ v=$(i+1); gsub(",","",v);
      if($i=="Failed:")f+=v; else if($i=="Passed:")p+=v; else if($i=="Skipped:")s+=v } n++ }
     END { if(!n) { print "0 passed, 1 failed, 0 skipped (no test summary found)"; exit 1 }
           printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log" || rc=1
rm -f "$log"
exit "$rc"
