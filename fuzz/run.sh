#!/usr/bin/env bash
# Run every fuzz target (or the ones named) for SECONDS each, one after the other, and print how
# many inputs each executed. Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
#
#   fuzz/run.sh SECONDS [TARGET...]        e.g. fuzz/run.sh 30, fuzz/run.sh 600 experiment
#
# Seeds come from the shipped files (experiments/, device-models/, results/*/runs/) and fuzz/seeds/;
# inputs that reach new code are kept in fuzz/corpus/TARGET, crashes land in fuzz/artifacts/TARGET
# and make the script fail. Extra libFuzzer flags go in FUZZ_FLAGS (e.g. FUZZ_FLAGS=-runs=1000000).
set -euo pipefail
secs=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
# From the workspace root, so the experiment seeds' relative hardware paths resolve.
cd "$(dirname "$0")/.."
all=(experiment hardware idx record pulses shard times cifar checkpoint tolerance)
targets=("${@:-${all[@]}}")

seeds() {
  case $1 in
    experiment) echo experiments ;;
    hardware) echo device-models ;;
    record) echo fuzz/seeds/record results/*/runs ;;
    *) echo "fuzz/seeds/$1" ;;
  esac
}

cargo +nightly fuzz build --fuzz-dir fuzz >/dev/null
summary=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  log=$(mktemp)
  # shellcheck disable=SC2046
  if ! cargo +nightly fuzz run --fuzz-dir fuzz "$t" "fuzz/corpus/$t" $(seeds "$t") -- \
      -max_total_time="$secs" -timeout=10 -print_final_stats=1 ${FUZZ_FLAGS:-} >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target $t failed: see fuzz/artifacts/$t" >&2
    rm -f "$log"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
  time=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
  rm -f "$log"
  summary+=("$(printf '%-11s %12s executions  (%s/s)' "$t" "${runs:-?}" "${time:-?}")")
  echo "${summary[-1]}"
done
echo "all ${#targets[@]} targets ran ${secs} s each without a crash"
