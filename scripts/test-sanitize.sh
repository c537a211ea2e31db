#!/usr/bin/env bash
# The suite under AddressSanitizer + UndefinedBehaviorSanitizer: the library, examples and tests are
# built in their own directory (build-sanitize; SANITIZE_BUILD_DIR overrides) at -O2 (Release-like, so
# the numerics are those users run, only instrumented) without the benchmarks, then CTest runs there.
# Any sanitizer report stops the program that made it (halt_on_error), so the test fails and so does CI.
#
# Left out: the install test (an uninstrumented consumer cannot load an instrumented libneurops: ASan
# must be the first library loaded) and the benchmark smoke runs (not built). Leak detection is off:
# Open MPI and PETSc keep allocations until exit by design, which LeakSanitizer reports as leaks.
# Extra arguments go to ctest (e.g. -R test_io). SANITIZE_EXCLUDE adds tests to leave out (a regex).
#
# Which tests: the whole suite by default (as CI runs it); SANITIZE_TESTS (a ctest regex) runs a subset
# (the build is the whole one either way). Tests run $(nproc) at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${SANITIZE_BUILD_DIR:-build-sanitize}
sanitize="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
start=$(date +%s)
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DNEUROPS_BUILD_BENCH=OFF \
  -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DCMAKE_C_FLAGS="$sanitize" -DCMAKE_CXX_FLAGS="$sanitize" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
select=()
[ -n "${SANITIZE_TESTS:-}" ] && select=(-R "$SANITIZE_TESTS")
built=$(date +%s)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=0:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
exclude="^test_install_consumer\$"
[ -n "${SANITIZE_EXCLUDE:-}" ] && exclude="$exclude|$SANITIZE_EXCLUDE"
cd "$BUILD_DIR"
status=0
ctest --output-on-failure --timeout 1800 -j "$(nproc)" -LE bench -E "$exclude" "${select[@]}" "$@" || status=$?
end=$(date +%s)
echo "sanitized build $((built - start)) s, tests $((end - built)) s, total $((end - start)) s"
exit $status
