#!/usr/bin/env bash
# Installs what is needed, builds ftpalg three ways and runs the whole test suite:
#   1. release build (warnings are errors): every CTest label
#   2. ASan+UBSan build: unit and golden tests
#   3. clang libFuzzer build (the fuzz targets only): each fuzzer for a bounded time (FTPALG_FUZZ_SECONDS, default 60)
# Build trees go under build/ (override with FTPALG_BUILD_ROOT). Exit status is non-zero when
# anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${FTPALG_BUILD_ROOT:-build}
jobs=$(nproc)
fuzz_seconds=${FTPALG_FUZZ_SECONDS:-60}

bash scripts/install-deps.sh test

step() { printf '\n=== %s\n' "$*"; }

step "lint: shellcheck, clang-format (scripts/lint.sh; also ctest -L lint)"
bash scripts/lint.sh all

step "release build"
cmake -S . -B "$root/release" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFTPALG_WERROR=ON >/dev/null
ninja -C "$root/release"
step "release tests (all labels except fuzz and manual)"
(cd "$root/release" && ctest --output-on-failure -j "$jobs" -LE "fuzz|manual")

step "ASan+UBSan build"
cmake -S . -B "$root/asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFTPALG_SANITIZE=ON \
  -DFTPALG_BENCH=OFF >/dev/null
ninja -C "$root/asan"
step "ASan+UBSan tests (unit, golden)"
(cd "$root/asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j "$jobs" -L 'unit|golden')

step "fuzz build (clang, libFuzzer)"
CXX=clang++ cmake -S . -B "$root/fuzz" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFTPALG_FUZZ=ON \
  -DFTPALG_BENCH=OFF -DFTPALG_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
ninja -C "$root/fuzz" ftpalg_fuzzers
step "fuzzers, ${fuzz_seconds}s each, $jobs at a time"
(cd "$root/fuzz" && ctest --output-on-failure -j "$jobs" -L fuzz)

step "all test stages passed"
