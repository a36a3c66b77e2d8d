#!/usr/bin/env bash
# Runs each test program given, adds up their "pixelgrad-tests: N passed, M failed" lines and
# ends with one line "N passed, M failed". A program that crashes before its summary counts as
# one failure. Exits non-zero when anything failed.
set -uo pipefail
# Idle OpenMP threads sleep instead of spinning: the suite runs many small parallel regions.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
passed=0; failed=0; skipped=0
for bin in "$@"; do
  echo "== $bin"
  log=$(mktemp)
  "$bin" --gtest_brief=1 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  line=$(grep -E '^pixelgrad-tests: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  rm -f "$log"
  if [ -z "$line" ]; then
    echo "$bin: exited with status $status before printing its summary (crash?)"
    failed=$((failed + 1)); continue
  fi
  read -r p f s < <(echo "$line" | sed -E 's/^pixelgrad-tests: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/')
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "$bin: exited with status $status after all tests passed (sanitizer report at exit?)"
    failed=$((failed + 1))
  fi
done
if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ]
