#!/usr/bin/env bash
# Mechanical style checks of the tree (scripts/install-deps.sh lint installs the tools):
#   lint.sh shell    shellcheck -x (default severity: style and up) over every *.sh under
#                    scripts/ and tests/
#   lint.sh format   clang-format --dry-run --Werror over the C++ sources in src/, include/
#                    and tests/ (the root .clang-format)
#   lint.sh [all]    both
# A check that must be silenced carries `# shellcheck disable=SCxxxx # why` at the narrowest
# scope. Exit status 0 when every selected check passes, 1 otherwise, 2 on a usage error.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

lint_shell() {
  local -a files
  mapfile -d '' -t files < <(find scripts tests -name '*.sh' -type f -print0 | LC_ALL=C sort -z)
  # Source paths in `# shellcheck source=` directives are relative to the repository root.
  if shellcheck -x "${files[@]}"; then
    echo "lint shell: ${#files[@]} scripts clean"
  else
    echo "lint shell: shellcheck found problems" >&2
    return 1
  fi
}

lint_format() {
  local cf=${CLANG_FORMAT:-clang-format}
  local -a files
  mapfile -d '' -t files < <(find src include tests -type f \
    \( -name '*.cc' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' \) -print0 | LC_ALL=C sort -z)
  if "$cf" --dry-run --Werror "${files[@]}"; then
    echo "lint format: ${#files[@]} files formatted"
  else
    echo "lint format: files differ from .clang-format (fix: $cf -i FILE...)" >&2
    return 1
  fi
}

rc=0
case ${1:-all} in
  shell) lint_shell || rc=1 ;;
  format) lint_format || rc=1 ;;
  all)
    lint_shell || rc=1
    lint_format || rc=1
    ;;
  *)
    echo "usage: $0 [shell|format|all]" >&2
    exit 2
    ;;
esac
exit "$rc"
