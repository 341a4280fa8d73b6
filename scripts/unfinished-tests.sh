#!/usr/bin/env bash
# Names the tests of a `swift test` log that failed, and those that started and never ended:
# after a crash (SIGSEGV, a trap) the runner prints no summary, and a CI log shows only its tail.
set -euo pipefail
log=${1:?usage: scripts/unfinished-tests.sh TEST-LOG}
echo
echo "== tests that failed:"
grep -E '^✘ Test .* failed after|^Test Case .* failed' "$log" | cut -c1-300 | sort -u || echo "   (none reported)"
echo "== tests that started and never ended (running when the test process stopped):"
started=$(sed -nE '/^◇ Test (run|case passing) /d; s/^◇ Test (.+) started\.$/\1/p' "$log" | sort -u)
ended=$(sed -nE '/^[✔✘➜] Test .* (passed|failed|skipped)/{ s/^[✔✘➜] Test (.+) (passed|failed|skipped).*/\1/; s/ with [0-9]+ test cases?$//; p; }' "$log" | sort -u)
comm -23 <(echo "$started") <(echo "$ended") | sed 's/^/   /'
