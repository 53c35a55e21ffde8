#!/bin/sh
# test_audit_cli.sh: `waybill audit` and `waybill verify --fork` through the
# real binary: a fleet registered with a development server is audited over
# HTTP (keys trusted on first use, then pinned), again (held to the first
# run's checkpoint), from a copy of the data directory, and the refusals of
# each command come with their exit codes. The tamper cases are in
# test_audit.c; this is what a user types.
set -u
WB=${WB_BIN:?WB_BIN must name the waybill binary}
T=$(mktemp -d "${TMPDIR:-/tmp}/wbaudit.XXXXXX")
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect() {
    want=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "exit $got (want $want): $*"; sed 's/^/  | /' "$T/err" "$T/out"
    fi
}
says() { grep -q -- "$1" "$T/out" "$T/err" || { fail "output does not say '$1'"; cat "$T/out" "$T/err"; }; }

export XDG_STATE_HOME="$T/state"
"$WB" serve --dev "$T/data" --listen 127.0.0.1:0 --port-file "$T/port" 2>"$T/serve.log" &
SERVER=$!
i=0; while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/port" ] || { cat "$T/serve.log"; exit 1; }
URL="http://127.0.0.1:$(cat "$T/port")"
expect 0 "$WB" sim --url "$URL" --admin-key "$T/data/admin.key" --dir "$T/fleet" \
    --racks 1 --blades 2 --parts 3 --inject swap
sleep 2 # the service registers its findings after their triggers

# ---- usage ----
expect 2 "$WB" audit
expect 2 "$WB" audit "$URL" --store "$T/data"
expect 2 "$WB" audit "$URL" --threads 0
expect 0 "$WB" audit --help
says "fork proof"
expect 4 "$WB" audit http://127.0.0.1:1
expect 4 "$WB" audit --store "$T/nothing-here"

# ---- first audit: keys trusted on first use and pinned; the state under XDG ----
expect 0 "$WB" audit "$URL"
says "verdict:    OK"
says "trusting on first use"
says "fleet state equal to the server's"
ls "$T/state/waybill/audit/"*.db >/dev/null 2>&1 || fail "no state file under XDG_STATE_HOME"

# ---- second audit: held to the first run's checkpoint, no first-use notice ----
expect 0 "$WB" audit "$URL" --json
says '"ok": true'
says '"checkpoints_consistent": 1'
grep -q "trusting on first use" "$T/err" && fail "the second run trusted on first use again"

# ---- a different log key is refused against the pinned one ----
"$WB" log init "$T/other" --origin other.example/log >/dev/null 2>&1
expect 1 "$WB" audit "$URL" --log-key "$(cat "$T/other/log.pub")"
says "not the one this auditor pinned"

# ---- a mirror of the tiles, checked as it is copied, audited as static files ----
expect 2 "$WB" mirror "$URL" "$T/mirror"
says "log-key is required"
expect 0 "$WB" mirror "$URL" "$T/mirror" --log-key "$T/data/log.pub" --json
says '"fetched"'
[ -s "$T/mirror/checkpoint" ] || fail "the mirror has no checkpoint"
ls "$T/mirror/tile/entries/"* >/dev/null 2>&1 || fail "the mirror has no entry bundle"
expect 0 "$WB" mirror "$URL" "$T/mirror" --log-key "$T/data/log.pub"
says "mirrored"
expect 0 "$WB" audit --tiles "$T/mirror" --json
says '"ok": true'
says '"checkpoints_consistent": 1'
# a mirror with a changed entry bundle is caught by the auditor, at the entry
cp -r "$T/mirror" "$T/mirror-bad"
B=$(find "$T/mirror-bad/tile/entries" -type f | sort | head -1)
[ -n "$B" ] || fail "no entry bundle file in the mirror"
printf 'X' | dd of="$B" bs=1 seek=40 conv=notrunc 2>/dev/null
expect 1 "$WB" audit --tiles "$T/mirror-bad" --state "$T/bad.db" --log-key "$T/data/log.pub" \
    --admin-key "$T/data/admin.key.pub" --service-key "$T/data/service.key"
says "FAILED (leaf) at entry 0"
expect 3 "$WB" audit --tiles "$T/mirror" --state "$T/fresh.db"
says "needs --log-key"

# ---- the store, after the server stopped: the same history ----
kill "$SERVER"; wait "$SERVER" 2>/dev/null; SERVER=
cp -a "$T/data" "$T/copy"
expect 0 "$WB" audit --store "$T/copy" --json
says '"checkpoints_consistent": 1'

# ---- verify --fork refuses what is not a fork proof ----
printf '{"format":"waybill.dev/fork-proof@v1"}' >"$T/notfork.json"
expect 3 "$WB" verify --fork "$T/notfork.json"
expect 4 "$WB" verify --fork "$T/missing.json"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "audit CLI: all checks passed"
