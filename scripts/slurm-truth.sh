#!/usr/bin/env bash
# What Slurm 22.05's own sbatch makes of batch scripts: `scripts/slurm-truth.sh OUT.tsv SCRIPT...`
# (root). Installs Debian's slurmctld and munge if missing, starts a throwaway slurmctld whose
# partitions, GPU types and features are the ones the scripts name, and a default partition
# `defq` (its nodes never come up:
# every job is submitted with --hold and stays pending), submits each script from an empty
# folder and records `scontrol show job -o` per script: one line per script, its file name, a
# tab, then Slurm's Key=Value fields (a refused script: `REFUSED` and sbatch's message). Stops
# what it started. Tests/ChessAPITests/Fixtures/sbatch-slurm-22.05.tsv is its output for
# ../shared/data/sbatch; CI needs no Slurm.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root (munged and slurmctld need it)" >&2; exit 1; }
[ $# -ge 2 ] || { echo "usage: $0 OUT.tsv SCRIPT..." >&2; exit 2; }
OUT=$(realpath -m "$1"); shift
missing=$(for p in slurmctld slurm-client munge; do dpkg -s $p >/dev/null 2>&1 || echo $p; done)
if [ -n "$missing" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
SL=$(mktemp -d /tmp/slurm-truth.XXXXXX)
HOST=$(hostname -s)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$SL/state" "$SL/log" "$SL/work"
export SLURM_CONF="$SL/slurm.conf"
# Partitions, GPU types and features the scripts name; node names that never register.
PARTS=$(cat "$@" | sed -n 's/^#SBATCH.*--partition[= ]\([A-Za-z0-9_.-]*\).*/\1/p; s/^#SBATCH.*[[:space:]]-p[ ]*\([A-Za-z0-9_.-]*\).*/\1/p' | sort -u)
TYPES=$(cat "$@" | { grep -o 'gpu:[A-Za-z_][A-Za-z0-9_]*:[0-9]' || true; } | cut -d: -f2 | sort -u)
FEATURES=$(cat "$@" | sed -n 's/^#SBATCH.*--constraint[= ]\([A-Za-z0-9_|&,]*\).*/\1/p; s/^#SBATCH.*[[:space:]]-C[ ]*\([A-Za-z0-9_|&,]*\).*/\1/p' | tr '|&,' '\n\n\n' | sort -u | paste -sd, -)
GRES="gpu:4"
for t in $TYPES; do GRES="$GRES,gpu:$t:4"; done
cat > "$SLURM_CONF" <<CONF
ClusterName=truth
SlurmctldHost=$HOST
SlurmctldPort=$PORT
SlurmUser=root
StateSaveLocation=$SL/state
SlurmctldPidFile=$SL/slurmctld.pid
SlurmctldLogFile=$SL/log/slurmctld.log
ProctrackType=proctrack/linuxproc
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
NodeName=t[01-64] NodeAddr=127.0.0.[1-64] CPUs=64 Sockets=2 CoresPerSocket=16 ThreadsPerCore=2 RealMemory=512000 Gres=$GRES Feature=${FEATURES:-none} State=UNKNOWN
PartitionName=defq Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
for p in $PARTS; do [ "$p" = defq ] || echo "PartitionName=$p Nodes=ALL MaxTime=INFINITE State=UP" >> "$SLURM_CONF"; done
{ echo "AutoDetect=off"; for t in $TYPES; do echo "NodeName=t[01-64] Name=gpu Type=$t Count=4"; done
  [ -z "$TYPES" ] && echo "NodeName=t[01-64] Name=gpu Count=4"; } > "$SL/gres.conf"
"$(dirname "$0")/munge-up.sh"
slurmctld -D -i -f "$SLURM_CONF" > "$SL/log/slurmctld.out" 2>&1 &
CTLD=$!
cleanup() { kill $CTLD 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$SL"; }
trap cleanup EXIT
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
scontrol ping | grep -q UP || { echo "slurmctld did not come up" >&2; cat "$SL/log/slurmctld.out" "$SL/log/slurmctld.log" >&2; exit 1; }
: > "$OUT"
cd "$SL/work"
for script in "$@"; do
    name=$(basename "$script")
    # A clean environment: no SBATCH_* from the caller.
    if out=$(env -i PATH=/usr/bin:/bin HOME=/root USER=root SLURM_CONF="$SLURM_CONF" sbatch --hold --parsable "$script" 2>&1); then
        id=${out##*$'\n'}
        id=${id%%;*}
        # The run's own folder and the script's path become {workdir} and {script}: the record is
        # the same wherever it is made.
        printf '%s\t%s\n' "$name" "$(scontrol show job -o "$id" | tr '\t' ' ' | sed "s|$SL/work|{workdir}|g; s|$(realpath "$script")|{script}|g")" >> "$OUT"
    else
        printf '%s\tREFUSED %s\n' "$name" "$(echo "$out" | tr '\n\t' '  ')" >> "$OUT"
    fi
done
echo "$(wc -l < "$OUT") scripts recorded in $OUT" >&2
