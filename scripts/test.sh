#!/usr/bin/env bash
# The suite, as `make test` runs it: the SQLite pass and the PostgreSQL pass side by side, each in
# its own process with its own throwaway PostgreSQL server or SQLite files and its own log.
# Every test that touches a database runs in both passes. What does not depend on the database runs
# in one pass only, the one named here, so that both passes end at about the same time
# (docs/performance.md has the figures):
#   NO_DB_IN  tests/unit and tests/packaging (no database at all)            (default: postgresql)
#   ONCE_IN   tests marked `once` (browser look, server processes and signals) (default: sqlite)
#   LOOK_IN   the look checks of the browser tests (tests/support/look.py)   (default: sqlite)
# Most browser journeys also run in one pass only (BROWSER_PASS in tests/conftest.py, with their look
# checks there); the whole journey and the juror's scoring journey run in both.
# Each pass's log is printed whole when both have ended, with its 15 slowest tests; every test's
# time is in test-results/junit-<pass>.xml. The exit code fails if either pass failed.
set -uo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}"
NO_DB_IN="${NO_DB_IN:-postgresql}"
ONCE_IN="${ONCE_IN:-sqlite}"
LOOK_IN="${LOOK_IN:-sqlite}"
logs=test-results/logs
mkdir -p "$logs"

pass() {
  local db=$1 skip=()
  shift
  [ "$db" = "$NO_DB_IN" ] || skip+=(--ignore=tests/unit --ignore=tests/packaging)
  [ "$db" = "$ONCE_IN" ] || skip+=(-m "not once")
  AWARD_JURY_SPLIT_BROWSER=1 AWARD_JURY_TEST_LOOK=$([ "$db" = "$LOOK_IN" ] && echo 1 || echo 0) \
    "$UV" run --frozen pytest --db "$db" -p no:cacheprovider --durations=15 \
    --junitxml="test-results/junit-$db.xml" "${skip[@]}" "$@" >"$logs/$db.log" 2>&1
}

start=$(date +%s)
pass sqlite "$@" &
sqlite_pid=$!
pass postgresql "$@" &
pg_pid=$!

wait "$sqlite_pid"; sqlite_rc=$?
wait "$pg_pid"; pg_rc=$?

for db in sqlite postgresql; do
  echo "================================ $db pass ($logs/$db.log) ================================"
  cat "$logs/$db.log"
done
echo "suite: sqlite exit $sqlite_rc, postgresql exit $pg_rc, $(( $(date +%s) - start )) s side by side"
[ "$sqlite_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]
