# Shared by the command-line tests (tests/cli/*.sh, sourced after their usage line): strict
# mode, a scratch folder removed on exit, and the checks they all use.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_status() {  # expect_status CODE command...: runs it, checks the exit status, prints its output
  local want=$1 rc=0 out
  shift
  out=$("$@" 2>&1) || rc=$?
  [[ $rc -eq $want ]] || fail "'$*' exited $rc, expected $want: $out"
  printf '%s' "$out"
}
json_get() {  # json_get FILE PYTHON-EXPRESSION-ON-j
  /usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"
}
