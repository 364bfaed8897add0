#!/usr/bin/env bash
# The suite, as `make test` runs it: the SQLite pass (every test, the pure unit tests and the
# wheel test included) and the PostgreSQL pass (every test that touches a database) side by side,
# each in its own process with its own throwaway PostgreSQL server or SQLite files and its own log.
# Unit tests, the packaging test and tests marked `once` do not depend on the database, so they
# run once, in the SQLite pass.
# Each pass's log is printed whole when both have ended; the exit code fails if either failed.
set -uo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-$(command -v uv || echo "$HOME/.local/bin/uv")}"
logs=test-results/logs
mkdir -p "$logs"

start=$(date +%s)
"$UV" run --frozen pytest --db sqlite -p no:cacheprovider --durations=15 "$@" >"$logs/sqlite.log" 2>&1 &
sqlite_pid=$!
"$UV" run --frozen pytest --db postgresql -p no:cacheprovider --durations=15 \
  --ignore=tests/unit --ignore=tests/packaging -m "not once" "$@" >"$logs/postgresql.log" 2>&1 &
pg_pid=$!

wait "$sqlite_pid"; sqlite_rc=$?
wait "$pg_pid"; pg_rc=$?

for pass in sqlite postgresql; do
  echo "================================ $pass pass ($logs/$pass.log) ================================"
  cat "$logs/$pass.log"
done
echo "suite: sqlite exit $sqlite_rc, postgresql exit $pg_rc, $(( $(date +%s) - start )) s side by side"
[ "$sqlite_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]
