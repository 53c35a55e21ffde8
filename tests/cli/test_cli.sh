#!/bin/sh
# test_cli.sh: the command-line log journey of README.md, and every bad
# input the CLI must refuse with a one-line error, its exit code and
# nothing written.
set -u
WB=${WB_BIN:?WB_BIN must name the waybill binary}
T=$(mktemp -d "${TMPDIR:-/tmp}/wbcli.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
pass() { :; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect CODE CMD...: run, compare the exit code, keep stdout/stderr
expect() {
    want=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "exit $got (want $want): $*"; sed 's/^/  | /' "$T/err"
    fi
}
# the error is one line and mentions $1
err_says() {
    if [ "$(wc -l <"$T/err")" -ne 1 ]; then fail "error is not one line:"; cat "$T/err"; fi
    grep -q -- "$1" "$T/err" || { fail "error does not say '$1':"; cat "$T/err"; }
}
same_checkpoint() {
    "$WB" log checkpoint "$T/log" >"$T/cp.now" || fail "checkpoint"
    cmp -s "$T/cp.now" "$1" || fail "checkpoint changed after a refused command"
}

# ---- help and usage ----
expect 0 "$WB" --help
grep -q "log init" "$T/out" || fail "help lists log init"
for c in init append checkpoint prove verify; do
    expect 0 "$WB" log $c --help
    grep -q "usage: waybill log $c" "$T/out" || fail "log $c --help"
    grep -q "exit codes" "$T/out" || fail "log $c --help documents exit codes"
done
expect 2 "$WB"
expect 2 "$WB" nosuch
expect 2 "$WB" log nosuch
expect 2 "$WB" log init
expect 2 "$WB" log init "$T/x" --bogus
err_says "unknown option"

# ---- init ----
expect 0 "$WB" log init "$T/log" --origin example.com/cli
grep -q "created log 'example.com/cli'" "$T/out" || fail "init output"
[ "$(stat -c %a "$T/log/log.key")" = 600 ] || fail "log.key mode"
KEY=$(cat "$T/log/log.pub")
case "$KEY" in example.com/cli+????????+*) ;; *) fail "verifier key form: $KEY" ;; esac
expect 4 "$WB" log init "$T/log" --origin example.com/cli
err_says "refusing to overwrite"
expect 3 "$WB" log init "$T/bad" --origin "has space"
[ ! -e "$T/bad" ] || fail "bad init left a directory"
expect 0 "$WB" log init "$T/log2" --json --origin example.com/two
grep -q '"verifier_key": "example.com/two+' "$T/out" || fail "init --json"

# ---- append ----
printf 'first entry' >"$T/e0"
printf '{"part":"rot","serial":"A1"}' >"$T/e1"
printf 'third' >"$T/e2"
expect 0 "$WB" log append "$T/log" "$T/e0"
[ "$(cut -f1 "$T/out")" = 0 ] || fail "first index is 0"
expect 0 "$WB" log append "$T/log" "$T/e1" "$T/e2" --json
grep -q '"first": 1' "$T/out" || fail "append --json first"
grep -q '"size": 3' "$T/out" || fail "append --json size"
printf 'from stdin' | "$WB" log append "$T/log" - >"$T/out" 2>"$T/err" || fail "append stdin"
[ "$(cut -f1 "$T/out")" = 3 ] || fail "stdin entry is 3"
"$WB" log checkpoint "$T/log" >"$T/cp4" || fail "checkpoint"
sed -n 2p "$T/cp4" | grep -qx 4 || fail "checkpoint size line"
head -1 "$T/cp4" | grep -qx example.com/cli || fail "checkpoint origin line"

# refused appends: nothing written
: >"$T/empty"
head -c 65536 /dev/zero | tr '\0' a >"$T/big"
head -c 65535 /dev/zero | tr '\0' b >"$T/max"
expect 3 "$WB" log append "$T/log" "$T/e0" "$T/empty"
err_says "empty"
same_checkpoint "$T/cp4"
expect 3 "$WB" log append "$T/log" "$T/e0" "$T/big"
err_says "65535"
same_checkpoint "$T/cp4"
expect 4 "$WB" log append "$T/log" "$T/e0" "$T/missing"
err_says "no such file"
same_checkpoint "$T/cp4"
expect 4 "$WB" log append "$T/nolog" "$T/e0"
err_says "not a waybill log"
expect 0 "$WB" log append "$T/log" "$T/max"
"$WB" log checkpoint "$T/log" >"$T/cp5"

# ---- prove and verify inclusion ----
expect 0 "$WB" log prove "$T/log" inclusion 1
cp "$T/out" "$T/p1"
head -1 "$T/p1" | grep -qx "c2sp.org/tlog-proof@v1" || fail "tlog-proof header"
sed -n 2p "$T/p1" | grep -qx "index 1" || fail "tlog-proof index"
expect 0 "$WB" log verify inclusion "$T/p1" "$T/e1" --key "$KEY"
grep -q "OK: entry 1 is in 'example.com/cli' at size 5" "$T/out" || fail "verify output"
expect 0 "$WB" log verify inclusion "$T/p1" "$T/e1" --key "$T/log/log.pub" --json
grep -q '"verified": true' "$T/out" || fail "verify --json"
# wrong entry, wrong key, tampered proof
expect 1 "$WB" log verify inclusion "$T/p1" "$T/e2" --key "$KEY"
expect 1 "$WB" log verify inclusion "$T/p1" "$T/e1" --key "$(cat "$T/log2/log.pub")"
sed '3s/^./!/' "$T/p1" >"$T/p1bad"
expect 3 "$WB" log verify inclusion "$T/p1bad" "$T/e1" --key "$KEY"
awk 'NR==3{ c=substr($0,1,1); r=(c=="A")?"B":"A"; $0=r substr($0,2) } {print}' "$T/p1" >"$T/p1flip"
expect 1 "$WB" log verify inclusion "$T/p1flip" "$T/e1" --key "$KEY"
sed '2s/index 1/index 2/' "$T/p1" >"$T/p1idx"
expect 1 "$WB" log verify inclusion "$T/p1idx" "$T/e1" --key "$KEY"
# a proof against an older checkpoint
expect 0 "$WB" log prove "$T/log" inclusion 2 --size 3
cp "$T/out" "$T/p2"
expect 0 "$WB" log verify inclusion "$T/p2" "$T/e2" --key "$KEY"
grep -q "at size 3" "$T/out" || fail "proof at size 3"
# bad prove requests
expect 3 "$WB" log prove "$T/log" inclusion 5
err_says "not in a tree of size 5"
expect 3 "$WB" log prove "$T/log" inclusion 0 --size 9
expect 4 "$WB" log prove "$T/log" inclusion 0 --size 2
err_says "no checkpoint"
expect 2 "$WB" log prove "$T/log" inclusion x
expect 2 "$WB" log prove "$T/log" sideways 1
expect 2 "$WB" log verify inclusion "$T/p1" "$T/e1"
err_says "--key is required"
expect 3 "$WB" log verify inclusion "$T/p1" "$T/e1" --key "not-a-key+zz+zz"

# ---- consistency ----
expect 0 "$WB" log prove "$T/log" consistency 1
cp "$T/out" "$T/c1"
head -1 "$T/c1" | grep -qx "waybill.dev/consistency-proof@v1" || fail "consistency header"
"$WB" log checkpoint "$T/log" --size 1 >"$T/cp1"
expect 0 "$WB" log verify consistency "$T/c1" "$T/cp1" --key "$KEY"
grep -q "extends size 1" "$T/out" || fail "consistency output"
expect 0 "$WB" log prove "$T/log" consistency 3 4
cp "$T/out" "$T/c34"
"$WB" log checkpoint "$T/log" --size 3 >"$T/cp3"
expect 0 "$WB" log verify consistency "$T/c34" "$T/cp3" --key "$KEY"
# against the wrong old checkpoint
expect 1 "$WB" log verify consistency "$T/c1" "$T/cp3" --key "$KEY"
# a forged old checkpoint (signed by another key) fails
"$WB" log checkpoint "$T/log2" >"$T/cpother"
expect 1 "$WB" log verify consistency "$T/c1" "$T/cpother" --key "$KEY"
expect 3 "$WB" log prove "$T/log" consistency 0
expect 3 "$WB" log prove "$T/log" consistency 4 3
# a proof of one kind is not accepted as the other
expect 3 "$WB" log verify inclusion "$T/c1" "$T/e1" --key "$KEY"

# ---- checkpoint ----
expect 0 "$WB" log verify checkpoint "$T/cp5" --key "$KEY"
grep -q "at size 5" "$T/out" || fail "verify checkpoint"
sed '2s/5/6/' "$T/cp5" >"$T/cpbad"
expect 1 "$WB" log verify checkpoint "$T/cpbad" --key "$KEY"
expect 0 "$WB" log checkpoint "$T/log" --json
grep -q '"size": 5' "$T/out" || fail "checkpoint --json"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "cli: all checks passed"
