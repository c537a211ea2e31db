#!/usr/bin/env bash
# The README's first command: dependencies, build, then the end-to-end demo (outputs in ./demo_output).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$BUILD_DIR"/examples/neurops_demo -demo_out demo_output "$@"
