#!/bin/bash
# The Slurm workflow of docs/CLUSTER.md against a real single-node Slurm: examples/slurm/submit.sh
# runs tests/cluster/sweep.ron as a 4-task job array and merges it in a dependent job; the merged
# folder must equal an unsharded run byte for byte (but for the time the runs took, in summary.json).
# Then one task is cancelled mid-run, the merge must be dropped, and resubmitting that index alone
# (it resumes its shard) must give the same bytes.
#
# Needs root and apt-get (it installs slurm-wlm and munge from Debian's packages when missing) and
# skips with a message elsewhere, or when SKIP_SLURM=1. It starts munged (unless one answers
# already), slurmctld and slurmd directly, without systemd, every daemon on 127.0.0.1 and on ports
# of its own, with a configuration in a scratch folder; it stops the daemons it started, by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

skip() {
  echo "tests/cluster/slurm.sh: skipped: $*"
  exit 0
}
fail_early() {
  echo "tests/cluster/slurm.sh: FAILED: $*" >&2
  exit 1
}
[[ ${SKIP_SLURM:-0} == 1 ]] && skip "SKIP_SLURM=1"
[[ $(uname -s) == Linux ]] || skip "Slurm test needs Linux"
[[ $(id -u) == 0 ]] || skip "needs root to install and start Slurm"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || skip "slurm-wlm and munge are not installed and there is no apt-get"
  echo "installing slurm-wlm and munge (apt-get)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge) \
    >/dev/null 2>&1 || skip "could not install slurm-wlm and munge with apt-get"
fi

# One test at a time per host: two would share munged and the ports.
exec 9>/run/lock/dyadsim-slurm-test.lock
flock -w 900 9 || fail_early "another Slurm test held /run/lock/dyadsim-slurm-test.lock for 15 minutes"

work=$(mktemp -d /tmp/dyadsim-slurm.XXXXXX)
started=()  # PID files of the daemons this script started
stop_daemons() {
  local code=$?
  for pidfile in "${started[@]}"; do
    if [[ -s $pidfile ]]; then
      local pid
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    fi
  done
  if ((code != 0)); then
    echo "--- failed; logs in $work" >&2
    tail -n 20 "$work"/*.log "$work"/jobs/*.out 2>/dev/null >&2 || true
  else
    rm -rf "$work"
  fi
}
trap stop_daemons EXIT
fail() {
  echo "tests/cluster/slurm.sh: FAILED: $*" >&2
  exit 1
}
# Wait up to $1 seconds for the command after it to succeed.
wait_for() {
  local limit=$1
  shift
  for _ in $(seq $((limit * 5))); do
    "$@" && return 0
    sleep 0.2
  done
  return 1
}

(cd "$root" && cargo build --release --locked -q -p dyadsim)
export DYADSIM=$root/target/release/dyadsim

# --- munge: the one every Slurm daemon and client on this host authenticates through.
munge_answers() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if munge_answers; then
  echo "munged: using the one already running"
else
  install -d -o munge -g munge -m 0755 /run/munge
  if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  rm -f /run/munge/munged.pid
  started+=(/run/munge/munged.pid)
  runuser -u munge -- /usr/sbin/munged
  wait_for 10 test -s /run/munge/munged.pid || fail "munged did not start"
  wait_for 10 munge_answers || fail "munged does not answer"
fi

# --- slurmctld and slurmd on the loopback address, ports of their own, state in $work.
host=$(hostname -s)
ctld_port=${SLURM_TEST_PORT:-16817}
mkdir -p "$work/state" "$work/spool" "$work/jobs"
export SLURM_CONF=$work/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=dyadsim-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$((ctld_port + 1))
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
started+=("$work/slurmctld.pid")
slurmctld -f "$SLURM_CONF" -c
wait_for 20 test -s "$work/slurmctld.pid" || fail "slurmctld did not start"
started+=("$work/slurmd.pid")
slurmd -f "$SLURM_CONF"
wait_for 20 test -s "$work/slurmd.pid" || fail "slurmd did not start"
node_idle() { [[ $(sinfo -h -o %T 2>/dev/null) == idle ]]; }
wait_for 60 node_idle || fail "the node did not become idle: $(sinfo 2>&1)"
echo "slurm: node $host idle with $(nproc) CPUs (controller on 127.0.0.1:$ctld_port)"

# --- the unsharded reference.
sweep=$root/tests/cluster/sweep.ron
"$DYADSIM" run "$sweep" --out "$work/reference" --threads "$(nproc)" >/dev/null

# Submit with the shipped wrapper from the jobs folder (logs land there); prints "array merge".
submit() {
  local out
  out=$(cd "$work/jobs" && EXPERIMENT=$sweep OUT=$1 SHARDS=4 "$root/examples/slurm/submit.sh" ${2:+"$2"})
  echo "$out" >&2
  local array merge
  array=$(sed -n 's/^array job \([0-9]*\).*/\1/p' <<<"$out")
  merge=$(sed -n 's/^merge job \([0-9]*\).*/\1/p' <<<"$out")
  [[ -n $array && -n $merge ]] || fail "submit.sh printed no job ids"
  echo "$array $merge"
}
queued() { [[ -n $(squeue -h -j "$1" 2>/dev/null) ]]; }
finished() { ! queued "$1"; }
state() { scontrol -o show job "$1" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' '; }
# Every file byte for byte, except the one line of summary.json that says how long the runs took
# and the lock file, which names the last process that held the folder.
same_as_reference() {
  diff -r --exclude='shard*' --exclude=summary.json --exclude=.dyadsim.lock "$work/reference" "$1" >"$work/diff.txt" ||
    fail "merged $1 differs from the unsharded run: $(head -n 20 "$work/diff.txt")"
  diff <(grep -v '"wall_time_s":' "$work/reference/summary.json") \
    <(grep -v '"wall_time_s":' "$1/summary.json") >"$work/diff.txt" ||
    fail "merged $1/summary.json differs from the unsharded run's: $(head -n 20 "$work/diff.txt")"
  local files
  files=$(find "$1" -path "$1/shard*" -prune -o -type f -print | wc -l)
  echo "  $1: $files files identical to the unsharded run (summary.json but for wall_time_s)"
}
records() { find "$1/runs" -name '*.json' 2>/dev/null | wc -l; }

# --- 1. the whole array, then the merge.
read -r array merge < <(submit "$work/merged") || fail "submit.sh failed"
wait_for 300 finished "$array" || fail "array $array still queued after 5 minutes"
wait_for 120 finished "$merge" || fail "merge $merge still queued after 2 minutes"
[[ $(state "$array") == "COMPLETED " ]] || fail "array $array ended $(state "$array")"
[[ $(state "$merge") == "COMPLETED " ]] || fail "merge $merge ended $(state "$merge")"
same_as_reference "$work/merged"

# --- 2. cancel task 1 once it finished some runs but not all, resubmit index 1 alone.
read -r array merge < <(submit "$work/resumed") || fail "submit.sh failed"
shard=$work/resumed/shard1
some_records() { (($(records "$shard") >= 1)); }
wait_for 120 some_records ||
  fail "task ${array}_1 wrote no run record within 2 minutes"
scancel "${array}_1"
done_at_cancel=$(records "$shard")
((done_at_cancel < 6)) || fail "task ${array}_1 had finished its 6 runs before it was cancelled; make the runs longer"
echo "  cancelled task ${array}_1 after $done_at_cancel of its 6 runs"
kept=$(find "$shard/runs" -name '*.json' -printf '%f %T@\n' | sort)
wait_for 300 finished "$array" || fail "array $array still queued after 5 minutes"
wait_for 60 finished "$merge" || fail "merge $merge still queued after its array failed"
[[ $(state "$merge") == "CANCELLED " ]] || fail "merge $merge after a cancelled task ended $(state "$merge")"
[[ ! -e $work/resumed/summary.json ]] || fail "a merge ran although task 1 was cancelled"
read -r array merge < <(submit "$work/resumed" 1) || fail "submit.sh failed"
wait_for 300 finished "$array" || fail "array $array still queued after 5 minutes"
wait_for 120 finished "$merge" || fail "merge $merge still queued after 2 minutes"
[[ $(state "$merge") == "COMPLETED " ]] || fail "merge $merge ended $(state "$merge")"
retrained=$(comm -23 <(echo "$kept") <(find "$shard/runs" -name '*.json' -printf '%f %T@\n' | sort))
[[ -z $retrained ]] || fail "the resubmitted task rewrote runs it had finished: $retrained"
same_as_reference "$work/resumed"
echo "tests/cluster/slurm.sh: passed"
