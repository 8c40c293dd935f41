#!/usr/bin/env bash
# A single-node Slurm cluster on loopback, for trying `era sweep --slurm` and for its test: munge,
# slurmctld and slurmd from Debian's packages (slurmctld, slurmd, slurm-client, munge), configured in
# a folder of their own; nothing under /etc is touched.
#
#   scripts/slurm-local.sh start DIR   starts the three daemons with their state, logs and config in
#                                      DIR, waits for the node to be idle, and prints the line
#                                      `export SLURM_CONF=DIR/slurm.conf` (eval it)
#   scripts/slurm-local.sh stop DIR    stops them
#
# Needs root (slurmd starts jobs as their user) and the packages (`scripts/setup.sh` installs them);
# when either is missing it says so and exits with status 3, so a caller can report the test skipped.
set -euo pipefail

action=${1:-}
dir=${2:-}
if [ -z "$action" ] || [ -z "$dir" ]; then
  echo "usage: scripts/slurm-local.sh start|stop DIR" >&2
  exit 2
fi

stop() {
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munged.pid"; do
    if [ -f "$pidfile" ]; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  done
}

case "$action" in
  stop)
    stop
    exit 0
    ;;
  start) ;;
  *)
    echo "slurm-local: unknown action '$action' (start or stop)" >&2
    exit 2
    ;;
esac

if [ "$(id -u)" != 0 ]; then
  echo "slurm-local: needs root (slurmd starts jobs as their user); not started" >&2
  exit 3
fi
for tool in munged slurmctld slurmd sbatch squeue scancel; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    echo "slurm-local: $tool not found: apt-get install slurmctld slurmd slurm-client munge (scripts/setup.sh does)" >&2
    exit 3
  fi
done
export PATH="$PATH:/usr/sbin"

mkdir -p "$dir"/{state,spool,log}
dir=$(cd "$dir" && pwd)
stop
if [ ! -f "$dir/munge.key" ]; then
  head -c 1024 /dev/urandom >"$dir/munge.key"
  chmod 600 "$dir/munge.key"
fi
# --force: the key lives in a folder munged would otherwise find too open (a temporary folder).
munged --force --socket="$dir/munge.sock" --key-file="$dir/munge.key" --pid-file="$dir/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed"

host=$(hostname -s)
# Ports away from a real cluster's defaults (6817/6818), so that one on this machine is left alone.
cat >"$dir/slurm.conf" <<EOF
ClusterName=era-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
KillWait=10
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$dir/slurm.conf
# -c: a clean start, without the jobs of an earlier one.
slurmctld -c -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
echo "slurm-local: the node did not become idle in 30 s; logs in $dir/log:" >&2
tail -n 5 "$dir"/log/*.log >&2 || true
stop
exit 1
