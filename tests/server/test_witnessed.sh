#!/bin/sh
# test_witnessed.sh: a log with three witnesses on loopback, through the
# real binaries (docs/audit.md "Witnesses", docs/receipts.md "Witnessed
# receipts"): `waybill serve` with a [witness] policy of quorum 2 and three
# `waybill witness serve`, each with its own key and state.
#   - registrations get cosigned checkpoints: /checkpoint carries all three
#     cosignatures, /witnesses and /metrics say so, a witnessed receipt passes
#     `waybill verify --witness-policy` (2 of 3 and 3 of 3), a plain one is
#     refused with a clear message, and so is a policy without the log key;
#   - a restart serves the gathered cosignatures again;
#   - `waybill log verify --witness-policy` checks a consistency proof's
#     cosigned checkpoint;
#   - a forked history signed with the log's real key (a copy of the log
#     taken earlier, extended differently) is refused by every witness (409
#     at the same size, 422 with a proof from its own tree), none cosigns it;
#   - one witness stopped: the log still registers and answers, /checkpoint
#     carries two cosignatures, /witnesses shows it unreachable, the 2-of-3
#     policy passes and a 3-of-3 policy fails naming the missing witness;
#   - device passports (a small simulated fleet on the same log): one
#     exported --witnessed passes `waybill verify --passport --witness-policy`
#     at 2 of 3 (and a verifier without a policy still accepts it), a plain
#     one is refused with a clear message, 3 of 3 fails naming the witness
#     that is down; the transparency configuration names /witnesses;
#   - a bad policy file stops the server at start-up with a clear error.
set -u
WB=${WB_BIN:?WB_BIN must name the waybill binary}
T=$(mktemp -d "${TMPDIR:-/tmp}/wbwit.XXXXXX")
PIDS=
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
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
# waits for a port file (10 s)
wait_port() {
    i=0
    while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -s "$1" ] || { fail "$2 did not start"; cat "$3"; exit 1; }
}
# waits until GET URL/witnesses holds the text $1 (15 s)
wait_witnesses() {
    i=0
    while [ $i -lt 150 ]; do
        curl -s "$URL/witnesses" >"$T/wit.json" 2>/dev/null
        grep -q -- "$1" "$T/wit.json" && return 0
        sleep 0.1; i=$((i + 1))
    done
    fail "/witnesses never said '$1'"; cat "$T/wit.json"; echo
    return 1
}
start_witness() { # N
    rm -f "$T/w$1.port"
    "$WB" witness serve --db "$T/w$1.db" --key "$T/w$1.key" --log "$T/svc/log.pub" \
        --listen 127.0.0.1:0 --port-file "$T/w$1.port" >"$T/w$1.log" 2>&1 &
    eval "W$1_PID=$!"
    PIDS="$PIDS $!"
    wait_port "$T/w$1.port" "witness $1" "$T/w$1.log"
}
start_server() {
    rm -f "$T/svc.port"
    "$WB" serve --config "$T/svc.ini" >>"$T/serve.log" 2>&1 &
    SERVER=$!
    PIDS="$PIDS $!"
    wait_port "$T/svc.port" "the server" "$T/serve.log"
    URL="http://127.0.0.1:$(cat "$T/svc.port")"
}
stop() { kill "$1"; wait "$1" 2>/dev/null; }
register() { # NAME: signs and registers one statement, sets ID
    printf '{"n":"%s"}' "$1" >"$T/$1.json"
    "$WB" sign --key "$T/acme.key" --payload "$T/$1.json" --content-type application/json \
        --iss acme --sub "$1" --out "$T/$1.cose" >/dev/null || fail "sign $1"
    expect 0 "$WB" submit --url "$URL" "$T/$1.cose" --json
    ID=$(sed -n 's/.*"entry_id": "\([0-9a-f]*\)".*/\1/p' "$T/out")
    [ -n "$ID" ] || fail "no entry id for $1"
}
cosigs() { grep -c "^— wit.test/" "$1"; }

# ---- the log, three witnesses, the policy ----
expect 0 "$WB" log init "$T/svc" --origin ledger.test/witnessed
LOGKEY=$(cat "$T/svc/log.pub")
for n in 1 2 3; do
    expect 0 "$WB" witness keygen "wit.test/w$n" --out "$T/w$n.key" --json
    eval "VK$n=\$(sed -n 's/.*\"vkey\": \"\\(.*\\)\".*/\\1/p' \"\$T/out\")"
    start_witness $n
done
{
    echo "# the log and its three witnesses, any two of which suffice"
    echo "log $LOGKEY"
    for n in 1 2 3; do
        eval "echo \"witness w$n \$VK$n http://127.0.0.1:\$(cat \"\$T/w$n.port\")\""
    done
    echo "quorum 2"
} >"$T/policy"
grep -v '^quorum' "$T/policy" >"$T/policy3"   # default quorum: all three
grep -v '^log' "$T/policy" >"$T/policy-nolog"
cat >"$T/svc.ini" <<EOF
[service]
name = ledger.test/witnessed
data_dir = svc
dev = true
listen = 127.0.0.1:0
port_file = svc.port
[batch]
durability = normal
[governance]
admin_keys = admin.key
[witness]
policy = policy
timeout_ms = 2000
retry_s = 1
EOF
start_server
"$WB" keygen --out "$T/acme.key" >/dev/null
cp "$T/acme.key.pub" "$T/svc/issuers/acme.pem"

# ---- cosigned checkpoints ----
register a; register b; register c
ID_C=$ID
wait_witnesses '"checkpoint_size":3,"cosignatures":3,"quorum_met":true'
curl -s "$URL/checkpoint" >"$T/cp3"
[ "$(cosigs "$T/cp3")" = 3 ] || { fail "/checkpoint does not carry three cosignatures"; cat "$T/cp3"; }
grep -q "^— ledger.test/witnessed " "$T/cp3" || fail "/checkpoint lost the log's signature"
expect 0 "$WB" log verify checkpoint "$T/cp3" --key "$T/svc/log.pub" --witness-policy "$T/policy3"
says "cosigned by 3 of the policy's 3 witnesses"
curl -s "$URL/metrics" >"$T/metrics"
grep -q 'waybill_witness_cosigned_size{witness="w2"} 3' "$T/metrics" || fail "metrics: cosigned size"
grep -q 'waybill_witness_checkpoint_cosignatures 3' "$T/metrics" || fail "metrics: cosignatures"
# a witnessed transparent statement and a witnessed receipt
[ "$(curl -s -o "$T/c.wit" -w '%{http_code}' "$URL/entries/$ID_C/statement?witnessed=1")" = 200 ] ||
    fail "GET /entries/{id}/statement?witnessed=1"
[ "$(curl -s -o "$T/c.wrec" -w '%{http_code}' "$URL/entries/$ID_C?witnessed=1")" = 200 ] ||
    fail "GET /entries/{id}?witnessed=1"
expect 0 "$WB" verify "$T/c.wit" --url "$URL" --save-keys "$T/keys.cbor" --witness-policy "$T/policy"
says "witnessed: OK: checkpoint of 3 entries cosigned by 3 of the policy's 3 witnesses (quorum 2)"
expect 0 "$WB" verify "$T/c.wit" --service-key "$T/keys.cbor" --witness-policy "$T/policy3"
expect 0 "$WB" verify "$T/c.cose" --receipt "$T/c.wrec" --service-key "$T/keys.cbor" \
    --witness-policy "$T/policy-nolog" --log-key "$T/svc/log.pub" --json
grep -q '"cosignatures": 3' "$T/out" || fail "verify --json: witnessed"
# without a witnessed checkpoint, or without the log key: refused, clearly
expect 1 "$WB" verify "$T/c.cose.transparent" --service-key "$T/keys.cbor" --witness-policy "$T/policy"
says "carries no witnessed checkpoint"
expect 3 "$WB" verify "$T/c.wit" --service-key "$T/keys.cbor" --witness-policy "$T/policy-nolog"
says "no 'log' line"
# another log's key does not open the witnessed checkpoint
"$WB" log init "$T/other" --origin ledger.test/witnessed >/dev/null
expect 1 "$WB" verify "$T/c.wit" --service-key "$T/keys.cbor" --witness-policy "$T/policy-nolog" \
    --log-key "$T/other/log.pub"

# ---- a restart serves the cosignatures again; a copy of the log for the fork ----
stop "$SERVER"
cp -r "$T/svc" "$T/fork"
start_server
curl -s "$URL/checkpoint" >"$T/cp3b"
cmp -s "$T/cp3" "$T/cp3b" || { fail "after a restart /checkpoint lost its cosignatures"; cat "$T/cp3b"; }

# ---- more entries; a consistency proof with a cosigned checkpoint ----
register d; register e
wait_witnesses '"checkpoint_size":5,"cosignatures":3'
curl -s "$URL/proofs/consistency?old=3" >"$T/proof3-5"
expect 0 "$WB" log verify consistency "$T/proof3-5" "$T/cp3" --key "$T/svc/log.pub" \
    --witness-policy "$T/policy3"
says "cosigned by 3 of the policy's 3 witnesses"

# ---- a fork signed with the real key: every witness refuses it ----
for n in x y; do echo "forged $n" >"$T/forged-$n"; done
expect 0 "$WB" log append "$T/fork" "$T/forged-x" "$T/forged-y"     # size 5, another root
expect 0 "$WB" log checkpoint "$T/fork"
cp "$T/out" "$T/fork5"
expect 0 "$WB" log verify checkpoint "$T/fork5" --key "$T/svc/log.pub"  # validly signed
echo "forged z" >"$T/forged-z"
expect 0 "$WB" log append "$T/fork" "$T/forged-z"                       # size 6
expect 0 "$WB" log prove "$T/fork" consistency 5
cp "$T/out" "$T/fork5-6"
for n in 1 2 3; do
    WURL="http://127.0.0.1:$(cat "$T/w$n.port")/add-checkpoint"
    # same size as the witness's, another root
    code=$({ printf 'old 5\n\n'; cat "$T/fork5"; } |
           curl -s -o "$T/resp" -w '%{http_code}' --data-binary @- "$WURL")
    case $code in 409|422) ;; *) fail "witness $n answered $code to a fork at its size"; cat "$T/resp";; esac
    grep -q "^— " "$T/resp" && fail "witness $n cosigned the fork at size 5"
    # a bigger fork, with a consistency proof from the fork's own tree
    code=$({ printf 'old 5\n'; sed -n '3,/^$/p' "$T/fork5-6"; sed '1,/^$/d' "$T/fork5-6"; } |
           curl -s -o "$T/resp" -w '%{http_code}' --data-binary @- "$WURL")
    case $code in 409|422) ;; *) fail "witness $n answered $code to a fork with a proof"; cat "$T/resp";; esac
    grep -q "^— " "$T/resp" && fail "witness $n cosigned the fork at size 6"
done
# and the witnesses still cosign the real log
register f
wait_witnesses '"checkpoint_size":6,"cosignatures":3'

# ---- a witness down: the log goes on, the policy state is visible ----
stop "$W3_PID"
register g
ID_G=$ID
register h
wait_witnesses '"checkpoint_size":8,"cosignatures":2,"quorum_met":true'
grep -q '"name":"w3","url":"[^"]*","cosigned_size":6,"cosigned_checkpoint":false,"reachable":false' \
    "$T/wit.json" || { fail "/witnesses does not show w3 down"; cat "$T/wit.json"; echo; }
curl -s "$URL/checkpoint" >"$T/cp8"
[ "$(cosigs "$T/cp8")" = 2 ] || { fail "/checkpoint does not carry two cosignatures"; cat "$T/cp8"; }
grep -q 'waybill_witness_up{witness="w3"} 0' "$(curl -s "$URL/metrics" >"$T/metrics"; echo "$T/metrics")" ||
    fail "metrics: w3 up"
[ "$(curl -s -o "$T/g.wit" -w '%{http_code}' "$URL/entries/$ID_G/statement?witnessed=1")" = 200 ] ||
    fail "GET witnessed statement with a witness down"
expect 0 "$WB" verify "$T/g.wit" --service-key "$T/keys.cbor" --witness-policy "$T/policy"
says "cosigned by 2 of the policy's 3 witnesses (quorum 2)"
expect 1 "$WB" verify "$T/g.wit" --service-key "$T/keys.cbor" --witness-policy "$T/policy3"
says "2 of the 3"
says "w3"
expect 1 "$WB" log verify checkpoint "$T/cp8" --key "$T/svc/log.pub" --witness-policy "$T/policy3"

# ---- device passports against the cosigned checkpoint (w3 still down) ----
curl -s "$URL/.well-known/transparency-configuration" | grep -a -q '/witnesses' ||
    fail "the transparency configuration does not name /witnesses"
expect 0 "$WB" sim --url "$URL" --admin-key "$T/admin.key" --dir "$T/fleet" --racks 1 \
    --blades 1 --parts 3 --until received --json
BLADE=$(sed -n 's/.*"sample_blade": "\([0-9a-f]*\)".*/\1/p' "$T/out")
[ -n "$BLADE" ] || fail "no sample blade from the simulator"
expect 0 "$WB" device export "$BLADE" --url "$URL" --out "$T/blade.wpp" --witnessed --wait 20
expect 0 "$WB" verify --passport "$T/blade.wpp" --service-key "$T/keys.cbor" \
    --witness-policy "$T/policy"
says "witnessed: OK: checkpoint cosigned by 2 of the policy's 3 witnesses (quorum 2)"
says "passport: every claim verified"
# the cosignature lines do not get in the way of a verifier without a policy
expect 0 "$WB" verify --passport "$T/blade.wpp" --log-key "$T/svc/log.pub"
# a plain passport: refused with the policy, saying how to get a witnessed one
expect 0 "$WB" device export "$BLADE" --url "$URL" --out "$T/blade.pp"
expect 1 "$WB" verify --passport "$T/blade.pp" --service-key "$T/keys.cbor" \
    --witness-policy "$T/policy-nolog" --log-key "$T/svc/log.pub"
says "witnessed: FAILED: checkpoint has 0 of the 2 witness cosignatures"
says "device export --witnessed"
# all three asked for, one down: refused, naming it
expect 1 "$WB" verify --passport "$T/blade.wpp" --witness-policy "$T/policy3" --json
says '"ok": false'
says "w3 (missing)"

# ---- bad policies stop the server at start-up, clearly ----
stop "$SERVER"
printf 'witness w1 not-a-key http://127.0.0.1:1\n' >"$T/policy"
expect 3 "$WB" serve --config "$T/svc.ini"
says "policy"
grep -v '^quorum' "$T/policy3" | sed 's| http://.*||' >"$T/policy"
expect 3 "$WB" serve --config "$T/svc.ini"
says "has no URL"

[ $fails -eq 0 ] && echo "all witnessed-log checks passed"
exit $fails
