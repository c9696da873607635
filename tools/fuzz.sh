#!/usr/bin/env bash
# Runs a libFuzzer target for SECONDS (or, with FUZZ_RUNS=N, for N inputs
# from a fixed seed and an empty corpus, so `make test` does the same amount of
# work on every machine; not the same inputs: libFuzzer orders seeds of equal
# size as the folder lists them, so a clean machine can still find what this
# one did not, as CI found a GatherND batch_dims overflow) over a seed
# corpus gathered from model
# folders: every model.onnx / *.onnx under them up to 1 MiB (the ONNX node
# tests, the small models in models/data). Seeds are copied into WORK/seeds
# (never committed); what the fuzzer finds grows WORK/corpus, and a crash,
# leak or hang is written to WORK/artifacts/ and fails the run.
#   bash tools/fuzz.sh FUZZER WORK SECONDS MODEL_DIR...
# Reproduce a finding: FUZZER WORK/artifacts/crash-...
set -euo pipefail
fuzzer=$1 work=$2 seconds=$3
shift 3
if [[ -n ${FUZZ_RUNS:-} ]]; then
  rm -rf "$work/corpus"
  budget=(-runs="$FUZZ_RUNS" -seed=1)
else
  budget=(-max_total_time="$seconds")
fi
mkdir -p "$work/seeds" "$work/corpus" "$work/artifacts"
n=0
for dir in "$@"; do
  [[ -d $dir ]] || { echo "fuzz: no seed folder $dir (skipped)"; continue; }
  while IFS= read -r -d '' model; do
    # One name per file: its path under the folder, with / as __.
    rel=${model#"$dir"/}
    cp -f "$model" "$work/seeds/${rel//\//__}"
    n=$((n + 1))
  done < <(find -L "$dir" -name '*.onnx' -size -1025k -print0)
done
echo "fuzz: $n seed models in $work/seeds, $(ls "$work/corpus" | wc -l) found before in $work/corpus"
# -timeout: a run of one input past 20 s is a hang; -rss_limit_mb: libFuzzer's
# default, stated; the session itself caps its tensors at 256 MiB.
export UBSAN_OPTIONS=print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
exec "$fuzzer" "${budget[@]}" -timeout=20 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "$work/seeds"
