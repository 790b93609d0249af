#!/usr/bin/env bash
# The whole test suite (CI runs it through .ci/run), in three stages:
#   release  set-up (packages, release build, data), then every test through CTest; arguments
#            given to this script go to this ctest.
#   asan     the asan preset (AddressSanitizer + UBSan): the unit-test programs built and run,
#            every GoogleTest test except the suites ScTraining and Reproduce (end-to-end
#            training runs, 3-4 minutes each under the sanitizers; the release stage runs them).
#            The CLI scripts and fuzz replays are left to the release and fuzz stages, so the
#            program itself is not built here.
#   fuzz     the fuzz smoke: scripts/fuzz.sh builds the libFuzzer targets (build/fuzz) and runs
#            each for $SPINSC_FUZZ_SECONDS seconds (default 5) after replaying its seeds and
#            regression inputs.
# SPINSC_TEST_STAGES picks stages (default "release asan fuzz"; e.g. SPINSC_TEST_STAGES=release
# for the quick local run). docs/reliability.md gives the times of each stage.
set -euo pipefail
cd "$(dirname "$0")/.."
stages=" ${SPINSC_TEST_STAGES:-release asan fuzz} "

if [[ $stages == *" release "* ]]; then
  bash scripts/setup.sh
  ctest --preset release -j2 "$@"
fi
if [[ $stages == *" asan "* ]]; then
  echo "test.sh: asan stage (AddressSanitizer + UBSan unit tests)" >&2
  cmake --preset asan >/dev/null
  unit_tests=()  # test_<module> for every src/<module> with unit tests
  for d in src/*/; do
    compgen -G "$d*_test.cpp" >/dev/null && unit_tests+=("test_$(basename "$d")")
  done
  cmake --build --preset asan --target "${unit_tests[@]}"
  ctest --preset asan -j2 --timeout 600 -E '^(cli|fuzz)\.|^(ScTraining|Reproduce)\.'
fi
if [[ $stages == *" fuzz "* ]]; then
  echo "test.sh: fuzz stage (smoke run of every fuzz target)" >&2
  bash scripts/fuzz.sh "${SPINSC_FUZZ_SECONDS:-5}"
fi
