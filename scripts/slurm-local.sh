#!/usr/bin/env bash
# A single-node Slurm cluster on loopback, for trying `era sweep --slurm` and for its test: munge,
# slurmctld and slurmd from Debian's packages (slurmctld, slurmd, slurm-client, munge), and job
# accounting for `sacct` (slurmdbd over a MariaDB server of its own, when slurmdbd and mariadb-server
# are installed), each configured in one folder; nothing under /etc is touched.
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
  local pid
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/slurmdbd.pid" "$dir/mariadbd.pid" "$dir/munged.pid"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    # Gone within 10 s, or killed: the next start reuses the ports.
    for _ in $(seq 1 20); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

# Accounting off: slurm.conf without slurmdbd (and slurmdbd and MariaDB stopped).
no_accounting() {
  echo "slurm-local: $1: starting without accounting (sacct will say so)" >&2
  for pidfile in "$dir/slurmdbd.pid" "$dir/mariadbd.pid"; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  rm -f "$dir/slurmdbd.conf"
  sed -i '/^AccountingStorage/d' "$dir/slurm.conf"
  echo "AccountingStorageType=accounting_storage/none" >>"$dir/slurm.conf"
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

# Accounting: MariaDB (its own data folder, socket and port) behind slurmdbd, when both are installed.
accounting="AccountingStorageType=accounting_storage/none"
if [ -x /usr/sbin/mariadbd ] && [ -x /usr/sbin/slurmdbd ] && command -v sacctmgr >/dev/null 2>&1; then
  if [ ! -d "$dir/mysql/mysql" ]; then
    mkdir -p "$dir/mysql"
    # Password login for root (none set), not the unix socket's: slurmdbd connects over TCP.
    mariadb-install-db --no-defaults --datadir="$dir/mysql" --user=root --auth-root-authentication-method=normal \
      --skip-test-db >"$dir/log/mariadb-install.log" 2>&1
  fi
  mariadbd --no-defaults --datadir="$dir/mysql" --socket="$dir/mysql.sock" --port=16306 --bind-address=127.0.0.1 \
    --user=root --pid-file="$dir/mariadbd.pid" --log-error="$dir/log/mariadb.log" >/dev/null 2>&1 &
  for _ in $(seq 1 60); do
    [ -S "$dir/mysql.sock" ] && break
    sleep 0.5
  done
  # slurmdbd reads slurmdbd.conf beside slurm.conf, and refuses one that others can read.
  cat >"$dir/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=16819
SlurmUser=root
PidFile=$dir/slurmdbd.pid
LogFile=$dir/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=16306
StorageUser=root
StorageLoc=era_slurm_acct
EOF
  chmod 600 "$dir/slurmdbd.conf"
  # AccountingStoragePass names the munge socket that clients use to reach slurmdbd.
  accounting="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=16819
AccountingStoragePass=$dir/munge.sock"
else
  rm -f "$dir/slurmdbd.conf"
fi

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
$accounting
JobCompType=jobcomp/none
KillWait=10
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$dir/slurm.conf
if [ -f "$dir/slurmdbd.conf" ]; then
  slurmdbd
  up=0
  for _ in $(seq 1 20); do
    if timeout 5 sacctmgr -n list cluster >/dev/null 2>&1; then
      up=1
      break
    fi
    sleep 1
  done
  if [ "$up" = 1 ] && timeout 10 sacctmgr -i add cluster era-local >/dev/null 2>&1 ||
    timeout 5 sacctmgr -n list cluster 2>/dev/null | grep -q era-local; then
    :
  else
    no_accounting "slurmdbd did not answer (logs in $dir/log)"
  fi
else
  no_accounting "no slurmdbd or mariadb-server"
fi
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
