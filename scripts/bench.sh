#!/usr/bin/env bash
# Builds neurops (dependencies included) and runs every benchmark against its peer, one after the
# other, printing each table. Run it on a quiet machine; OpenMP waits passively so that timings
# survive other work on the cores. Extra arguments go to every benchmark program.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for program in "$BUILD_DIR"/bench/*; do
  [[ -x "$program" && -f "$program" ]] || continue
  echo "=== $(basename "$program")"
  "$program" "$@"
  echo
done
