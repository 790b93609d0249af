#!/usr/bin/env bash
# docs/performance.md's profile of the default reproduce is what scripts/reproduce_profile.py
# writes from the committed profile (docs/results/reproduce-profile/profile.json): no figure of
# it is typed.
spinsc=${1:?usage: profile_block_current.sh /path/to/spinsc}  # unused: the script reads files only
source "$(dirname "$0")/lib/common.sh"
src=${SPINSC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
/usr/bin/python3 "$src/scripts/reproduce_profile.py" "$src/docs/results/reproduce-profile/profile.json" \
  --previous "$src/docs/results/reproduce-profile/previous-profile.json" --check "$src/docs/performance.md" ||
  fail "docs/performance.md's profile is not what docs/results/reproduce-profile gives (regenerate: scripts/reproduce_profile.py)"
echo "docs/performance.md profile: generated from docs/results/reproduce-profile"
