#!/usr/bin/env bash
# `make run`: a controller with the example configuration in a temporary directory, a sample
# workload submitted through chessctl, the queue and nodes shown, then a clean shutdown.
# No node agent exists yet (issue 4), so nodes stay DOWN "Not responding" and jobs wait with
# reason Resources: what the controller does with a real agent is covered by the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/.build/release"
DEMO=$(mktemp -d /tmp/chess-demo.XXXXXX)
export CHESS_STATE_DIR="$DEMO/state" CHESS_SOCKET="$DEMO/chessd.sock" CHESS_LISTEN=none
chessctl() { "$BIN/chessctl" "$@"; }

"$BIN/chessd" --config etc/chess.toml > "$DEMO/chessd.log" 2>&1 &
CHESSD=$!
trap 'kill $CHESSD 2>/dev/null || true; wait $CHESSD 2>/dev/null || true; rm -rf "$DEMO"' EXIT
for _ in $(seq 100); do chessctl ping >/dev/null 2>&1 && break; sleep 0.1; done
chessctl ping

echo; echo "== submitting the sample workload (examples/jobs)"
cd examples/jobs
chessctl submit hello.sh
chessctl submit mpi.sh
chessctl submit gpu.sh
chessctl submit array.sh
FIRST=$(chessctl submit --parsable -J step1 --wrap "echo step 1")
chessctl submit -J step2 --dependency=afterok:"$FIRST" --wrap "echo step 2"
chessctl submit overrun.sh
cd ../..
sleep 1

echo; echo "== chessctl queue"; chessctl queue
echo; echo "== chessctl nodes"; chessctl nodes
echo; echo "== chessctl show node gpu01"; chessctl show node gpu01
echo; echo "== chessctl acct -a"; chessctl acct -a -o jobid,jobname,partition,state,alloccpus,reason
echo; echo "== restart: kill -9, then the jobs are all still there"
kill -9 $CHESSD; wait $CHESSD 2>/dev/null || true
"$BIN/chessd" --config etc/chess.toml >> "$DEMO/chessd.log" 2>&1 &
CHESSD=$!
for _ in $(seq 100); do chessctl ping >/dev/null 2>&1 && break; sleep 0.1; done
chessctl queue -o id,name,state,reason
