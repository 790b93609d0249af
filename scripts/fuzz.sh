#!/usr/bin/env bash
# Fuzzing (docs/reliability.md): builds the libFuzzer targets of fuzz/ with clang, AddressSanitizer
# and UBSan (preset fuzz, in build/fuzz), then runs every target for SECONDS (default 10: a smoke
# run), one after another on one core. Each run starts by executing the target's committed seeds
# (fuzz/corpus/<target>) and regression inputs (fuzz/regress/<target>), so SECONDS=0 only
# replays those.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      e.g. scripts/fuzz.sh 600 trace hw
#
# SPINSC_FUZZ_RUNS=N also stops each target after N executions (the long run of
# docs/reliability.md: SPINSC_FUZZ_RUNS=1000000 scripts/fuzz.sh 360).
#
# The corpus a run grows is kept in build/fuzz/corpus/<target> (not committed). A finding
# (crash, uncaught exception other than spinsc::Error, leak, UB, timeout, out of memory) stops
# the script with status 1 and leaves the input in build/fuzz/findings/<target>/. A summary line
# per target gives executions, executions per second and wall time.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-10}
shift || true
[[ $seconds =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2; exit 2; }

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

targets=("$@")
if ((${#targets[@]} == 0)); then
  for src in fuzz/fuzz_*.cpp; do
    t=${src#fuzz/fuzz_}
    targets+=("${t%.cpp}")
  done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
logs=build/fuzz/logs
mkdir -p "$logs"
status=0
printf '%-14s %12s %10s %8s  %s\n' target executions exec/s wall result
for t in "${targets[@]}"; do
  bin=build/fuzz/fuzz_$t
  [[ -x $bin ]] || { echo "fuzz.sh: no target '$t' (have: $(ls fuzz/fuzz_*.cpp | sed 's|fuzz/fuzz_||; s|\.cpp||' | tr '\n' ' '))" >&2; exit 2; }
  work=build/fuzz/corpus/$t
  findings=build/fuzz/findings/$t
  mkdir -p "$work" "$findings"
  dirs=("$work" "fuzz/corpus/$t")
  [[ -d fuzz/regress/$t ]] && dirs+=("fuzz/regress/$t")
  args=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/")
  [[ -f fuzz/dict/$t.dict ]] && args+=(-dict="fuzz/dict/$t.dict")
  if ((seconds == 0)); then args+=(-runs=0); else args+=(-max_total_time="$seconds"); fi
  [[ -n ${SPINSC_FUZZ_RUNS:-} && $seconds != 0 ]] && args+=(-runs="$SPINSC_FUZZ_RUNS")
  start=$(date +%s%N)
  result=ok
  "$bin" "${args[@]}" "${dirs[@]}" >"$logs/$t.log" 2>&1 || { result="FINDING (see $logs/$t.log, input in $findings/)"; status=1; }
  wall_ds=$((($(date +%s%N) - start) / 100000000))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t.log" | tail -1)
  printf '%-14s %12s %10s %6d.%ds  %s\n' "$t" "${execs:-?}" "${rate:-?}" $((wall_ds / 10)) $((wall_ds % 10)) "$result"
  [[ $result == ok ]] || tail -40 "$logs/$t.log" >&2
done
exit $status
