#!/usr/bin/env bash
# Builds neurops (dependencies included) and runs every benchmark against its peer, one after the
# other, printing each table, then one summary table gathered from the programs' `summary` lines
# (bench/roofline.hpp): benchmark, row, neurops ms, peer ms, ratio (peer / neurops, the median over
# alternating rounds) with its min-max spread, and neurops' share of the Eigen GEMM rate measured in
# the same run. Run it on a quiet machine; OpenMP waits passively so that timings survive other work
# on the cores, and the load average is printed beside the table. Extra arguments go to every program.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "load at start: $(cat /proc/loadavg)"
for program in "$BUILD_DIR"/bench/*; do
  [[ -x "$program" && -f "$program" ]] || continue
  echo "=== $(basename "$program")"
  "$program" "$@" | tee -a "$log"
  echo
done
echo "=== summary (ratio = peer / neurops, median over alternating rounds [min-max]; % of Eigen GEMM peak)"
echo "load at end: $(cat /proc/loadavg)"
awk -F'\t' '
  BEGIN { printf "%-20s %-36s %11s %11s %8s %15s %8s\n", "benchmark", "row", "neurops ms", "peer ms", "ratio",
                 "[spread]", "% GEMM" }
  $1 == "summary" { printf "%-20s %-36s %11s %11s %8s %15s %8s\n", $2, $3, $4, $5, $6, "[" $7 "]", $8 }
' "$log"
