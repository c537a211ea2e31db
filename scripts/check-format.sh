#!/usr/bin/env bash
# Checks that every C++ source of the project is formatted by .clang-format (Debian's clang-format).
# Prints the files that differ and exits 1; `bash scripts/check-format.sh -fix` formats them instead.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
  echo "check-format: clang-format is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' 2>/dev/null || find include src operators solvers pde examples tests bench -name '*.[ch]pp')
if [[ "${1:-}" == "-fix" ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  printf 'check-format: %d files differ from .clang-format (run scripts/check-format.sh -fix):\n' "${#bad[@]}"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
