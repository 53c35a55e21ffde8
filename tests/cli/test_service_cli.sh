#!/bin/sh
# test_service_cli.sh: the README's transparency-service journey through the
# real binary: keygen, sign, serve --dev, submit, verify offline; the
# refusals of each command with their exit codes; and a real Azure Code
# Transparency receipt (CCF, vds 2) verified by the same command, with every
# tampered variant refused.
set -u
WB=${WB_BIN:?WB_BIN must name the waybill binary}
SRC=${WB_SRC:?WB_SRC must name the source directory}
T=$(mktemp -d "${TMPDIR:-/tmp}/wbsvc.XXXXXX")
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

# ---- keys and statements ----
expect 0 "$WB" keygen --out "$T/acme.key"
says "kid:"
[ "$(stat -c %a "$T/acme.key")" = 600 ] || fail "private key mode"
expect 4 "$WB" keygen --out "$T/acme.key"
says "already exists"
expect 2 "$WB" keygen --out "$T/x.key" --alg RSA
expect 0 "$WB" keygen --out "$T/contoso.key" --alg ES384 --json
grep -q '"alg": "ES384"' "$T/out" || fail "keygen --json"
expect 0 "$WB" keygen --out "$T/fabrikam.key" --alg EdDSA
printf '{"kind":"manifest","device":"rot-7f3a"}' >"$T/m.json"
expect 0 "$WB" sign --key "$T/acme.key" --payload "$T/m.json" --content-type application/json \
    --iss acme --sub rot-7f3a --out "$T/m.cose"
expect 0 "$WB" sign --key "$T/contoso.key" --payload "$T/m.json" --content-type application/json \
    --iss contoso --sub rot-7f3a --out "$T/c.cose"
expect 0 "$WB" sign --key "$T/fabrikam.key" --payload "$T/m.json" --content-type application/json \
    --iss fabrikam --sub rot-7f3a --out "$T/f.cose"
expect 2 "$WB" sign --key "$T/acme.key" --payload "$T/m.json" --out "$T/y.cose"
says "required"
expect 3 "$WB" sign --key "$T/acme.key.pub" --payload "$T/m.json" --content-type a/b \
    --iss a --sub b --out "$T/y.cose"
says "public key"
[ ! -e "$T/y.cose" ] || fail "a refused sign wrote its output"
# an x5chain from a real supplier-shaped chain; the leaf must match the key
V="$SRC/tests/vectors/spdm/ecp256"
cat "$V/end_responder.cert" >"$T/chain.pem"
expect 0 "$WB" sign --key "$V/end_responder.key" --x5chain "$T/chain.pem" --payload "$T/m.json" \
    --content-type application/json --iss dmtf --sub widget --out "$T/x.cose"
expect 3 "$WB" sign --key "$T/acme.key" --x5chain "$T/chain.pem" --payload "$T/m.json" \
    --content-type application/json --iss dmtf --sub widget --out "$T/x2.cose"
says "not for the key"

# ---- the service ----
"$WB" serve --dev "$T/svc" --listen 127.0.0.1:0 --port-file "$T/port" 2>"$T/serve.log" &
SERVER=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/port" ] || { fail "server did not start"; cat "$T/serve.log"; exit 1; }
URL="http://127.0.0.1:$(cat "$T/port")"
grep -q "DEVELOPMENT MODE" "$T/serve.log" || fail "dev mode is not announced"
for k in acme contoso fabrikam; do cp "$T/$k.key.pub" "$T/svc/issuers/$k.pem"; done

for s in m c f x; do
    expect 0 "$WB" submit --url "$URL" "$T/$s.cose"
    says "registered: entry"
    [ -s "$T/$s.cose.receipt" ] || fail "$s: no receipt file"
    expect 0 "$WB" verify "$T/$s.cose.transparent" --url "$URL" --save-keys "$T/keys.cbor"
    says "receipt 1: OK: RFC9162_SHA256"
    expect 0 "$WB" verify "$T/$s.cose" --receipt "$T/$s.cose.receipt" --service-key "$T/keys.cbor"
done
# x5chain statements get their issuer signature checked from the leaf
expect 0 "$WB" verify "$T/x.cose.transparent" --service-key "$T/keys.cbor"
says "issuer signature: OK"
expect 0 "$WB" verify "$T/m.cose.transparent" --service-key "$T/keys.cbor" --issuer-key "$T/acme.key.pub"
says "issuer signature: OK"
expect 1 "$WB" verify "$T/m.cose.transparent" --service-key "$T/keys.cbor" --issuer-key "$T/contoso.key.pub"
# the same statement again: the same entry
expect 0 "$WB" submit --url "$URL" "$T/m.cose" --json
id1=$(grep entry_id "$T/out")
expect 0 "$WB" submit --url "$URL" "$T/m.cose" --json
[ "$(grep entry_id "$T/out")" = "$id1" ] || fail "resubmission made another entry"
# refusals
"$WB" keygen --out "$T/mallory.key" >/dev/null
"$WB" sign --key "$T/mallory.key" --payload "$T/m.json" --content-type application/json \
    --iss mallory --sub x --out "$T/mal.cose" >/dev/null
expect 3 "$WB" submit --url "$URL" "$T/mal.cose"
says "not the key of any registered issuer"
printf 'garbage' >"$T/junk.cose"
expect 3 "$WB" submit --url "$URL" "$T/junk.cose"
expect 4 "$WB" submit --url "http://127.0.0.1:1" "$T/m.cose"
says "Couldn't connect"
# tampering: a byte of the receipt's signature, of the statement's payload
cp "$T/m.cose.receipt" "$T/bad.receipt"
size=$(stat -c %s "$T/bad.receipt")
printf '\001' | dd of="$T/bad.receipt" bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null
expect 1 "$WB" verify "$T/m.cose" --receipt "$T/bad.receipt" --service-key "$T/keys.cbor"
sed 's/rot-7f3a/rot-ffff/' "$T/m.cose" >"$T/forged.cose"
expect 1 "$WB" verify "$T/forged.cose" --receipt "$T/m.cose.receipt" --service-key "$T/keys.cbor"
# another service's keys do not verify ours
"$WB" keygen --out "$T/other.key" >/dev/null
expect 1 "$WB" verify "$T/m.cose.transparent" --service-key "$T/other.key.pub"
says "no service key"
expect 2 "$WB" verify "$T/m.cose.transparent"

# ---- a real CCF receipt (Azure Code Transparency, vds 2) ----
C="$SRC/tests/vectors/cose/scitt-ccf-ledger"
expect 0 "$WB" verify "$C/uvm_0.2.10.cose" --service-key "$C/esrp-cts-db.json"
says "CCF_LEDGER_SHA256, issuer 'esrp-cts-db.confidential-ledger.azure.com'"
says "not checked"
# flip single bytes across the whole file: every variant must be refused
size=$(stat -c %s "$C/uvm_0.2.10.cose")
refused=0; tried=0; off=0
while [ $off -lt "$size" ]; do
    cp "$C/uvm_0.2.10.cose" "$T/t.cose"
    printf '\377' | dd of="$T/t.cose" bs=1 seek=$off conv=notrunc 2>/dev/null
    if cmp -s "$T/t.cose" "$C/uvm_0.2.10.cose"; then off=$((off + 97)); continue; fi
    tried=$((tried + 1))
    if "$WB" verify "$T/t.cose" --service-key "$C/esrp-cts-db.json" >/dev/null 2>&1; then
        echo "  byte $off changed and still verified"
    else
        refused=$((refused + 1))
    fi
    off=$((off + 97))
done
[ "$refused" -eq "$tried" ] || fail "CCF: $((tried - refused)) of $tried tampered files verified"
echo "CCF receipt: $tried single-byte changes, all refused"

kill "$SERVER"; wait "$SERVER"; SERVER=
grep -q "stopped" "$T/serve.log" || fail "the server did not stop cleanly"
if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "service cli: all checks passed"
