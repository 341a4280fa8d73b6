#!/usr/bin/env bash
# `make run`: a working single-host cluster with a sample workload.
#
# chessd runs with the example configuration (etc/chess.toml, plus this host as a node) in a
# temporary directory; one chess-nodeagent presents this host and emulates the configured
# cpu01-04 from an hwloc topology and gpu01-02 from a real GPU machine's (three GPUs and an
# InfiniBand HCA, examples/topologies); the jobs of examples/jobs run as real processes.
# The queue is shown as it moves, then a marketplace job funded, settled and signed, then
# accounting, then chessd survives a kill -9.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BIN="$ROOT/.build/release"
TOPOLOGY="$ROOT/Tests/NodeAgentTests/Fixtures/synthetic-2pack-4numa-32core.xml"
GPU_TOPOLOGY="$ROOT/examples/topologies/24em64t-2n6c2t-pci.xml"
DEMO=$(mktemp -d /tmp/chess-demo.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export CHESS_STATE_DIR="$DEMO/state" CHESS_SOCKET="$DEMO/chessd.sock" CHESS_LISTEN="127.0.0.1:$PORT"
chessctl() { "$BIN/chessctl" "$@"; }

# The example configuration, with this host added as node "$HOST" of the batch partition.
HOST=$(hostname -s)
read -r CORES MEMORY < <("$BIN/chess-nodeagent" --probe --name "$HOST" | python3 -c '
import json, sys
t = json.load(sys.stdin)[0]["topology"]
print(sum(len(d["cores"]) for d in t["numa"]), min(sum(d["memory_mb"] for d in t["numa"]), 4000))')
# The one agent presents this host and emulates the others: it speaks for all of them.
sed -e "s/nodes = \"cpu\[01-04\],gpu\[01-02\]\"/nodes = \"cpu[01-04],gpu[01-02],$HOST\"/" \
    -e "s/^names = \"\(cpu\[01-04\]\|gpu\[01-02\]\)\"/&\nagent = \"$HOST\"/" etc/chess.toml > "$DEMO/chess.toml"
# gpu01-02 as the GPU machine is: the lines `chess-nodeagent --node-config` prints for it (as
# Slurm's `slurmd -C`) replace the example's shape for them, keeping its features and switch.
"$BIN/chess-nodeagent" --probe --node-config --name gpu01 --topology "$GPU_TOPOLOGY" > "$DEMO/gpu-node.toml"
python3 - "$DEMO/chess.toml" "$DEMO/gpu-node.toml" <<'PY'
import re, sys
config, probed = sys.argv[1], open(sys.argv[2]).read()
values = dict(re.findall(r'^(sockets|cores_per_socket|memory_mb|gpus|gpu_type) = (.*)$', probed, re.M))
blocks = open(config).read().split("\n\n")
for i, block in enumerate(blocks):
    if 'names = "gpu[01-02]"' in block:
        for key, value in values.items():
            block = re.sub(r'^%s = .*$' % key, "%s = %s" % (key, value), block, flags=re.M)
        # The example's a100 feature names GPUs this machine does not have.
        block = block.replace(', "a100"', '')
        blocks[i] = block
open(config, "w").write("\n\n".join(blocks))
PY
cat >> "$DEMO/chess.toml" <<EOF

[[nodes]]
names = "$HOST"
cores_per_socket = $CORES
memory_mb = $MEMORY
features = ["ib"]
EOF
head -c 32 /dev/urandom > "$DEMO/cluster.key"
chmod 600 "$DEMO/cluster.key"
sed -i 's|^key_file = .*|key_file = "cluster.key"|' "$DEMO/chess.toml"
# The agent gets a key of its own, derived from the cluster key: it can speak for its nodes alone.
(umask 077; "$BIN/chessd" --config "$DEMO/chess.toml" --agent-key "$HOST" > "$DEMO/agent.key")
# Selling on the marketplace, with a provider key made for the demo and one oracle source.
python3 -c 'import secrets; print(secrets.token_hex(32))' > "$DEMO/provider.key"
chmod 600 "$DEMO/provider.key"
cat >> "$DEMO/chess.toml" <<EOF

[market]
chain_id = 8453
escrow_contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
provider_key_file = "provider.key"
oracle_sources = ["demo"]
EOF
# TLS on the TCP listener: a CA for the demo and chessd's certificate; the agent and the
# marketplace trust that CA.
"$ROOT/scripts/make-tls.sh" "$DEMO/tls" localhost 127.0.0.1 >/dev/null
cat >> "$DEMO/chess.toml" <<EOF

[tls]
certificate = "tls/chessd.crt"
private_key = "tls/chessd.key"
EOF

"$BIN/chessd" --config "$DEMO/chess.toml" > "$DEMO/chessd.log" 2>&1 &
CHESSD=$!
AGENT=
cleanup() {
    [ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null || true
    kill "$CHESSD" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$DEMO"
}
trap cleanup EXIT
for _ in $(seq 100); do chessctl ping >/dev/null 2>&1 && break; sleep 0.1; done
chessctl ping

EMULATED=()
for n in cpu01 cpu02 cpu03 cpu04; do EMULATED+=(--emulate "$n=$TOPOLOGY"); done
for n in gpu01 gpu02; do EMULATED+=(--emulate "$n=$GPU_TOPOLOGY"); done
"$BIN/chess-nodeagent" --controller "127.0.0.1:$PORT" --key "$DEMO/agent.key" --tls-ca "$DEMO/tls/ca.crt" --name "$HOST" \
    "${EMULATED[@]}" --spool "$DEMO/spool" --kill-wait 5 > "$DEMO/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 100); do [ "$(chessctl nodes --noheader -N -o '%n %T' | sort -u | grep -c idle)" -ge 7 ] && break; sleep 0.1; done
echo; echo "== chessctl nodes  (every node up: the configuration matches what the agent probed)"
chessctl nodes
chessctl nodes -R
echo; echo "== chessctl show node gpu01  (a real GPU machine's topology: GPUs and the HCA in their NUMA domains)"
chessctl show node gpu01

echo; echo "== submitting the sample workload (examples/jobs)"
mkdir -p "$DEMO/work"
cd "$DEMO/work"
chessctl submit "$ROOT/examples/jobs/hello.sh"
chessctl submit "$ROOT/examples/jobs/mpi.sh"
chessctl submit "$ROOT/examples/jobs/gpu.sh"
chessctl submit "$ROOT/examples/jobs/array.sh"
FIRST=$(chessctl submit --parsable -J step1 --wrap "echo step 1")
chessctl submit -J step2 --dependency=afterok:"$FIRST" --wrap "echo step 2"
chessctl submit "$ROOT/examples/jobs/overrun.sh"

echo; echo "== the queue moving (every 3 s until it is empty: the overrun job meets its one-minute limit)"
for _ in $(seq 30); do
    echo "-- $(date +%T)"
    chessctl queue
    [ -z "$(chessctl queue --noheader)" ] && break
    sleep 3
done

echo; echo "== outputs"
for f in *.out; do echo "-- $f"; cat "$f"; done
echo; echo "== the marketplace (scripts/demo-market.py over TLS with a token): a funded job, its signed settlement"
# Marketplace jobs are strangers' code: they run as an unprivileged user (never root), in a
# folder of that user's.
MARKET_USER=nobody
mkdir -p "$DEMO/market"
chown "$MARKET_USER" "$DEMO/market"
chmod 711 "$DEMO"
TOKEN=$(chessctl market token create demo --scopes read,submit,settle,oracle --user "$MARKET_USER" --json \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
CHESS_TLS_CA="$DEMO/tls/ca.crt" python3 "$ROOT/scripts/demo-market.py" "$PORT" "$TOKEN" "$DEMO/market"
chessctl settlement list

echo; echo "== chessctl price list; chessctl invoice --by account  (the marketplace job at its settled cost, the rest at the partitions' prices)"
chessctl price list
chessctl invoice --by account
echo; echo "== chessctl acct -a"
chessctl acct -a -o jobid,jobname,partition,state,exitcode,elapsed,alloccpus,nodelist,totalcpu,reason
cd "$ROOT"

echo; echo "== kill -9 chessd, restart: a waiting (held) job and every record are still there"
chessctl submit --hold -J waiting -p gpu --gres=gpu:1 --wrap "echo later"
kill -9 "$CHESSD"; wait "$CHESSD" 2>/dev/null || true
"$BIN/chessd" --config "$DEMO/chess.toml" >> "$DEMO/chessd.log" 2>&1 &
CHESSD=$!
for _ in $(seq 100); do chessctl ping >/dev/null 2>&1 && break; sleep 0.1; done
chessctl queue -o id,name,state,reason
chessctl acct -a -n -P -o jobid,state | tr '\n' ' '; echo
