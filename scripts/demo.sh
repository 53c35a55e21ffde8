#!/bin/sh
# demo.sh WAYBILL_BIN: a provenance journey against a real waybill server,
# step by step, as users would type it: the service starts on the embedded
# SQLite store; a supplier, an integrator and a carrier each sign what they
# did and register it; everyone verifies the receipts offline with nothing
# but the service's public keys; a forged record is refused; the log proves
# it only grew. Later issues grow this into the full provenance journey.
set -eu
WB=${1:-build/waybill}
case "$WB" in /*) ;; *) WB="$(pwd)/$WB" ;; esac
D=$(mktemp -d "${TMPDIR:-/tmp}/waybill-demo.XXXXXX")
SERVER=
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$D"
}
trap cleanup EXIT
cd "$D"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }

step "1. Start the transparency service (development mode, SQLite store in ./service)"
"$WB" serve --dev service --listen 127.0.0.1:0 --port-file port 2>serve.log &
SERVER=$!
i=0; while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s port ] || { cat serve.log; exit 1; }
URL="http://127.0.0.1:$(cat port)"
sed -n '/listening/p' serve.log

step "2. Each party makes a signing key; the operator registers their public keys"
for who in contoso-silicon fabrikam-systems northwind-freight; do
    run "$WB" keygen --out "$who.key"
    cp "$who.key.pub" "service/issuers/$who.pem"
done

step "3. The supplier signs a manifest of the root-of-trust it made, and registers it"
cat >manifest.json <<'J'
{"kind":"manifest","supplier":"Contoso Silicon","device":"rot-7f3a","class":"rot","serial":"CS-000417"}
J
run "$WB" sign --key contoso-silicon.key --payload manifest.json \
    --content-type application/json --iss contoso-silicon --sub rot-7f3a --out manifest.cose
run "$WB" submit --url "$URL" manifest.cose

step "4. The integrator records the blade it built; the carrier records the shipment"
cat >assembly.json <<'J'
{"kind":"assembly","integrator":"Fabrikam Systems","parent":"blade-0042","slot":"rot0","child":"rot-7f3a"}
J
cat >custody.json <<'J'
{"kind":"custody","carrier":"Northwind Freight","shipment":"NW-88812","event":"ship","units":["blade-0042"]}
J
run "$WB" sign --key fabrikam-systems.key --payload assembly.json \
    --content-type application/json --iss fabrikam-systems --sub blade-0042 --out assembly.cose
run "$WB" submit --url "$URL" assembly.cose
run "$WB" sign --key northwind-freight.key --payload custody.json \
    --content-type application/json --iss northwind-freight --sub NW-88812 --out custody.cose
run "$WB" submit --url "$URL" custody.cose

step "5. The datacenter fetches the service keys once, then verifies offline"
run "$WB" verify manifest.cose.transparent --url "$URL" --save-keys service-keys.cbor
run "$WB" verify assembly.cose.transparent --service-key service-keys.cbor \
    --issuer-key fabrikam-systems.key.pub
run "$WB" verify custody.cose.transparent --service-key service-keys.cbor

step "6. A doctored record (another device in the slot) does not verify (exit 1)"
sed 's/rot-7f3a/rot-ffff/' assembly.cose >forged.cose
if "$WB" verify forged.cose --receipt assembly.cose.receipt --service-key service-keys.cbor; then
    echo "demo: a forged record verified; this must never happen" >&2
    exit 1
else
    echo "(refused, as it must be: exit code $?)"
fi

step "7. An unknown party cannot register anything (nothing is written)"
run "$WB" keygen --out mallory.key >/dev/null
run "$WB" sign --key mallory.key --payload assembly.json --content-type application/json \
    --iss mallory --sub blade-0042 --out mallory.cose >/dev/null
if "$WB" submit --url "$URL" mallory.cose; then
    echo "demo: an unregistered issuer was accepted" >&2
    exit 1
fi

step "8. The log itself: signed checkpoint, and proof that it only grew"
printf '$ waybill log checkpoint service\n' >&2
"$WB" log checkpoint service | tee checkpoint-3.txt
cat >intake.json <<'J'
{"kind":"intake","site":"dc-west-2","shipment":"NW-88812","found":{"rot0":"rot-7f3a"},"verdict":"match"}
J
"$WB" keygen --out dc-west.key >/dev/null && cp dc-west.key.pub service/issuers/dc-west.pem
"$WB" sign --key dc-west.key --payload intake.json --content-type application/json \
    --iss dc-west --sub NW-88812 --out intake.cose >/dev/null
run "$WB" submit --url "$URL" intake.cose
printf '$ waybill log prove service consistency 3 > grow.proof\n' >&2
"$WB" log prove service consistency 3 >grow.proof
run "$WB" log verify consistency grow.proof checkpoint-3.txt --key service/log.pub

step "9. Stop the service: it finishes the batch in progress and exits"
"$WB" verify intake.cose.transparent --service-key service-keys.cbor >/dev/null
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
grep -E "stopped" serve.log

printf '\nDemo complete: 4 statements from 4 parties registered, every receipt verified\noffline with the service keys, a forgery and an unknown issuer refused.\n'
