#!/usr/bin/env bash
# Configures the project with the optional parts switched off, as a user who builds only the library
# (and its tests) would: every such configuration must configure and list its tests. Configure-only,
# so it takes seconds; the full build is scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for options in "-DNEUROPS_BUILD_EXAMPLES=OFF" "-DNEUROPS_BUILD_BENCH=OFF" \
               "-DNEUROPS_BUILD_EXAMPLES=OFF -DNEUROPS_BUILD_BENCH=OFF" "-DNEUROPS_BUILD_TESTS=OFF"; do
  dir="$work/$(echo "$options" | tr -c 'A-Za-z0-9' '_')"
  # shellcheck disable=SC2086
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release $options >"$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
  tests=0
  if [[ -f "$dir/CTestTestfile.cmake" ]]; then tests=$(cd "$dir" && ctest -N | sed -n 's/^Total Tests: //p'); fi
  echo "check-configurations: $options configures ($tests tests)"
done
