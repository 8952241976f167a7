#!/bin/bash
# Queue a dyadsim experiment as a Slurm job array and the merge after it (docs/CLUSTER.md).
#
# Usage: submit.sh [INDICES]
#   INDICES  the array tasks to submit, as sbatch --array takes them [default: 0-(SHARDS-1)];
#            name the failed ones to run only those again (each resumes its shard).
# The settings are those of array.sbatch beside this script, overridden by the environment
# (EXPERIMENT, OUT, SHARDS, DYADSIM); CPUS overrides its --cpus-per-task.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The settings block of the array script, so that they are edited in one place.
eval "$(sed -n '/^# --- settings ---$/,/^# ---$/p' "$here/array.sbatch")"
export EXPERIMENT OUT SHARDS DYADSIM
indices=${1:-0-$((SHARDS - 1))}
cpus=()
if [[ -n ${CPUS:-} ]]; then
  cpus=(--cpus-per-task="$CPUS")
fi
array=$(sbatch --parsable --array="$indices" "${cpus[@]}" "$here/array.sbatch")
array=${array%%;*}
# kill-on-invalid-dep: if a task fails or is cancelled the merge is removed from the queue
# instead of waiting forever; resubmit the failed indices with this script, which queues a new merge.
merge=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes "$here/merge.sbatch")
merge=${merge%%;*}
echo "array job $array (tasks $indices of $EXPERIMENT, $SHARDS shards into $OUT/shard<i>)"
echo "merge job $merge into $OUT after every task succeeded"
