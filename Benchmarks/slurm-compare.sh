#!/usr/bin/env bash
# Side by side with Slurm 22.05 from Debian, on this machine: `make bench-slurm`.
#
# Installs slurmctld, slurmd and munge (apt-get), runs a one-node Slurm (64 CPUs declared, as in
# the CHESS cluster benchmark) from a temporary directory, measures what issues 3 and 4 compare,
# then runs the same figures for CHESS (chess-bench --controller) and prints both.
# Needs root (munge and slurmd). Nothing here is part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (munged and slurmd need it)" >&2; exit 1; }
missing=$(for p in slurmctld slurmd slurm-client munge; do dpkg -s $p >/dev/null 2>&1 || echo $p; done)
if [ -n "$missing" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

SL=$(mktemp -d /tmp/slurm-bench.XXXXXX)
HOST=$(hostname -s)
mkdir -p "$SL/state" "$SL/spool" "$SL/log" "$SL/work"
export SLURM_CONF="$SL/slurm.conf"
cat > "$SLURM_CONF" <<EOF
ClusterName=bench
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$SL/state
SlurmdSpoolDir=$SL/spool
SlurmctldPidFile=$SL/slurmctld.pid
SlurmdPidFile=$SL/slurmd.pid
SlurmctldLogFile=$SL/log/slurmctld.log
SlurmdLogFile=$SL/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MaxJobCount=100000
SlurmdParameters=config_overrides
NodeName=$HOST CPUs=64 Sockets=2 CoresPerSocket=16 ThreadsPerCore=2 RealMemory=4000 State=UNKNOWN
PartitionName=batch Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

# munge: a key of our own, the daemon on its default socket.
scripts/munge-up.sh

slurmctld -D -i -f "$SLURM_CONF" > "$SL/log/slurmctld.out" 2>&1 &
CTLD=$!
slurmd -D -f "$SLURM_CONF" > "$SL/log/slurmd.out" 2>&1 &
SLURMD=$!
cleanup() { kill $SLURMD $CTLD 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$SL"; }
trap cleanup EXIT
for _ in $(seq 100); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 0.2; done
sinfo -h -o "%n %t %c" | grep -q idle || { echo "Slurm did not come up; see $SL/log" >&2; tail -5 "$SL/log/slurmctld.log" >&2; exit 1; }
cd "$SL/work"
rss() { awk '/VmRSS/ {print $2}' /proc/$CTLD/status; }
ms() { python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) * 1000))" "$1"; }
now() { date +%s.%N; }

# Sequential sbatch processes (held, as CHESS's are pending with no node).
N=300
t0=$(now)
for _ in $(seq $N); do sbatch -H -Q --wrap true >/dev/null; done
t1=$(now)
SEQ=$(python3 -c "print('%.0f' % ($N / ($t1 - $t0)))")

# 10,000 pending jobs, then squeue, scontrol show job, memory.
RSS0=$(rss)
seq $((10000 - N)) | xargs -P 4 -n 100 sh -c 'for _ in "$@"; do sbatch -H -Q --wrap true >/dev/null; done' _
RSS1=$(rss)
squeue >/dev/null
t0=$(now); for _ in $(seq 10); do squeue > /dev/null; done; t1=$(now)
SQUEUE=$(python3 -c "print('%.1f' % (($t1 - $t0) / 10 * 1000))")
JOB=$(squeue -h -o %i | sed -n 5000p)
t0=$(now); for _ in $(seq 20); do scontrol show job "$JOB" > /dev/null; done; t1=$(now)
SHOW=$(python3 -c "print('%.1f' % (($t1 - $t0) / 20 * 1000))")
PERJOB=$(python3 -c "print('%.2f' % (($RSS1 - $RSS0) / (10000 - $N)))")
scancel -u root; sleep 2

# Submit-to-start latency on the idle node, and 1,000 trivial jobs end to end.
LAT=()
for i in $(seq 5); do
    rm -f start; s=$(now)
    sbatch -Q -o /dev/null --wrap "date +%s.%N > $SL/work/start" >/dev/null
    for _ in $(seq 300); do [ -s start ] && break; sleep 0.01; done
    [ -s start ] && LAT+=("$(python3 -c "print((float(open('start').read()) - $s) * 1000)")")
    sleep 0.5
done
LATENCY=$(printf '%s\n' "${LAT[@]}" | sort -n | sed -n 3p | cut -d. -f1)
t0=$(now)
for _ in $(seq 1000); do sbatch -Q -o /dev/null --wrap true >/dev/null; done
for _ in $(seq 1200); do [ -z "$(squeue -h | head -1)" ] && break; sleep 0.5; done
t1=$(now)
E2E=$(python3 -c "print('%.0f' % (1000 / ($t1 - $t0)))")

cd - >/dev/null
echo "Slurm 22.05 (Debian) on this machine:"
printf '  %-52s%s\n' "sequential sbatch processes" "$SEQ jobs/s" \
    "squeue, 10,000 pending" "$SQUEUE ms" "scontrol show job" "$SHOW ms" \
    "slurmctld memory per pending job" "$PERJOB KiB" \
    "submit-to-start latency, idle (median of 5)" "${LATENCY:-?} ms" \
    "1,000 trivial jobs end to end (default config)" "$E2E jobs/s"
echo
echo "CHESS on this machine (same run):"
.build/release/chess-bench --controller
