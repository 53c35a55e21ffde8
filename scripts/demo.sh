#!/bin/sh
# demo.sh WAYBILL_BIN: the provenance journey, against a real waybill server
# on its embedded SQLite store: a simulated fleet (suppliers with their CAs
# and P-384 root-of-trust identities, an integrator, a carrier, a
# datacenter, a firmware vendor and a reviewer) goes from the factory to
# production with a few anomalies injected; then one device's journey, the
# fleet compliance summary and the open findings; then a device passport,
# exported and verified offline; then the datacenter's own checks on a second
# delivery: intake, pre-production attestation answering real challenges,
# and a periodic round by the server that catches a blade swapped in
# service. The data stays behind for exploring.
set -eu
WB=${1:-build/waybill}
case "$WB" in /*) ;; *) WB="$(pwd)/$WB" ;; esac
D=$(mktemp -d "${TMPDIR:-/tmp}/waybill-demo.XXXXXX")
SERVER=
DEVICES=
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    if [ -n "$DEVICES" ]; then kill "$DEVICES" 2>/dev/null || true; wait "$DEVICES" 2>/dev/null || true; fi
    for w in ${WITNESSES:-}; do kill "$w" 2>/dev/null || true; wait "$w" 2>/dev/null || true; done
}
trap cleanup EXIT
cd "$D"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }

step "1. Start the transparency service (development mode, SQLite store in $D/service)"
"$WB" serve --dev service --listen 127.0.0.1:0 --port-file port 2>serve.log &
SERVER=$!
i=0; while [ ! -s port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s port ] || { cat serve.log; exit 1; }
URL="http://127.0.0.1:$(cat port)"
sed -n '/listening/p' serve.log
echo "(development mode made the operator admin key service/admin.key)"

step "2. A fleet goes from the factory to production; four anomalies are injected"
echo "   suppliers register their CAs and manifest P-384 RoT identities; the integrator"
echo "   builds blades and racks; the carrier ships; the datacenter takes them in and"
echo "   attests them. Injected: a swapped SSD, a cloned RoT, a shipment never shipped,"
echo "   and firmware revoked by its vendor."
run "$WB" sim --url "$URL" --admin-key service/admin.key --dir fleet \
    --racks 2 --blades 4 --parts 6 --inject swap,clone,custody-gap,revoked-fw --json >sim.json
python_free_get() { sed -n "s/.*\"$1\": *\"\\([0-9a-f]*\\)\".*/\\1/p" sim.json | head -1; }
BLADE=$(python_free_get sample_blade)
RACK=$(python_free_get sample_rack)
grep -E '"(devices|statements)"' sim.json | head -2 | sed 's/^ */   /'
sleep 2 # the service registers its findings in the batch after their triggers

step "3. One blade's journey: every entry about it, in log order, each with a receipt"
run "$WB" device show "$BLADE" --url "$URL"

step "4. What is in its rack: expected (assemblies) and last attested, slot by slot"
run "$WB" device tree "$RACK" --url "$URL" | head -16
echo "   ..."

step "5. Fleet compliance"
run "$WB" fleet --url "$URL"

step "6. Open findings: what does not add up, its tag, and the entries that prove it"
run "$WB" findings --url "$URL"

step "7. A device passport: everything about one part, checkable offline"
PART=$("$WB" device tree "$BLADE" --url "$URL" --json | sed -n 's/.*"expected": *"\([0-9a-f]*\)".*/\1/p' | head -1)
run "$WB" device export "$PART" --url "$URL" --out part.passport
run "$WB" verify --passport part.passport --log-key service/log.pub --admin-key service/admin.key.pub

step "8. A passport with one changed byte does not verify"
cp part.passport tampered.passport
size=$(stat -c %s tampered.passport)
printf '\001' | dd of=tampered.passport bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
if "$WB" verify --passport tampered.passport --log-key service/log.pub >tampered.out; then
    echo "demo: a tampered passport verified; this must never happen" >&2
    exit 1
fi
grep -E "FAILED|NOT verified" tampered.out | head -3

step "9. The datacenter's own checks: a second delivery, every root of trust challenged"
echo "   A second fleet is built and shipped (stopping at the carrier's receipt). Its"
echo "   blades and racks are played by simulated devices that answer challenges with"
echo "   evidence signed by alias keys their P-384 identities certify."
run "$WB" sim --url "$URL" --admin-key service/admin.key --dir dc --racks 2 --blades 3 \
    --parts 5 --seed 2 --until received >dc.txt
sed -n '/stopped after the receipt/,/devices:/p' dc.txt
"$WB" sim devices --dir dc --listen 127.0.0.1:0 --port-file dport >devices.log 2>&1 &
DEVICES=$!
i=0; while [ ! -s dport ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s dport ] || { cat devices.log; exit 1; }
DURL="http://127.0.0.1:$(cat dport)"
V="--url $URL --devices $DURL --site AMS-1 --issuer ams1-operations --key dc/keys/ams1-operations.key"

step "10. Intake at the dock: custody (seals, units) and the arrival attestation"
awk '/: [0-9]+ units, seals/ {sub(":", "", $1); print $1, $5 "," $6}' dc.txt >shipments
while read -r SHIP SEALS; do
    run "$WB" intake "$SHIP" $V --seals "$SEALS"
done <shipments

step "11. Before production: each rack's blades, then the rack, must pass"
RACKS=$(awk -F'\t' '$2 == "rack" {print $1}' dc/devices.tsv)
run "$WB" attest $RACKS $V --phase pre-production
run "$WB" fleet --url "$URL" | sed -n '/by state/,/by site/p' | grep -v 'by site'

step "12. Periodic attestation by the server, two witnesses; a blade is swapped in service"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
echo "   two independent witnesses (C2SP tlog-witness) will cosign every checkpoint"
{
    echo "log $(cat service/log.pub)"
    for n in 1 2; do
        "$WB" witness keygen "witness$n.example/w" --out "w$n.key" >"w$n.vkey"
        "$WB" witness serve --db "w$n.db" --key "w$n.key" --log service/log.pub \
            --listen 127.0.0.1:0 --port-file "w$n.port" >"w$n.log" 2>&1 &
        WITNESSES="${WITNESSES:-} $!"
        i=0; while [ ! -s "w$n.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        [ -s "w$n.port" ] || { cat "w$n.log" >&2; exit 1; }
        echo "witness w$n $(cat "w$n.vkey") http://127.0.0.1:$(cat "w$n.port")"
    done
    echo "quorum 2"
} >witness.policy
# a reader for the web console and the commands below: an admin persona
# with a fresh token (the service keeps only its SHA-256, docs/personas.md)
"$WB" persona token >console.token
TOKEN=$(sed -n 's/^token: //p' console.token)
cat >service.ini <<INI
[service]
name = localhost/waybill-dev
data_dir = service
dev = true
listen = 127.0.0.1:$(cat port)
[persona console]
kind = admin
$(sed -n '/^token_sha256/p' console.token)
[attest]
devices_url = $DURL
key = dc/keys/ams1-operations.key
issuer = ams1-operations
site = AMS-1
interval_s = 3
[witness]
policy = witness.policy
INI
echo "   restarted with service.ini: [attest] devices_url, key, issuer, site, interval_s = 3;"
echo "   [witness] policy = witness.policy (2 witnesses, quorum 2);"
echo "   [persona console] kind = admin: reads now need its token (WAYBILL_TOKEN)"
export WAYBILL_TOKEN="$TOKEN"
"$WB" serve --config service.ini 2>>serve.log &
SERVER=$!
i=0; while ! "$WB" fleet --url "$URL" >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 4 # a clean round first
VICTIM=$(awk -F'\t' '$2 == "blade" {print $1; exit}' dc/devices.tsv)
SHORT=$(printf '%.12s' "$VICTIM")
run "$WB" sim fault --devices "$DURL" "$VICTIM" swap
echo "   waiting for the next round..."
i=0
until "$WB" findings --url "$URL" --rule unauthorized-swap | grep -q "of $SHORT"; do
    [ $i -lt 200 ] || { echo "demo: the periodic round did not catch the swap" >&2; exit 1; }
    sleep 0.1; i=$((i + 1))
done
run "$WB" findings --url "$URL" --rule unauthorized-swap | grep -B1 -A2 "of $SHORT"

step "13. An outsider audits the whole log, cosigned by the witnesses"
echo "   every bundle and tile rehashed, every signature verified, the policy replayed,"
echo "   the fleet state rebuilt and compared with the server's (docs/audit.md)"
echo "   and its checkpoint must be cosigned by both witnesses (witness.policy)"
run "$WB" audit "$URL" --state audit.db --admin-key service/admin.key.pub \
    --witness-policy witness.policy

step "14. The fleet state is derived from the log alone: rebuild it and compare"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
kill "$DEVICES" 2>/dev/null || true; wait "$DEVICES" 2>/dev/null || true; DEVICES=
run "$WB" reindex service --check

printf '\nDemo complete. The ledger is in %s/service; to explore it:\n' "$D"
printf '  %s serve --dev %s/service --listen 127.0.0.1:8080 &   (every read open)\n' "$WB" "$D"
printf '  %s fleet --url http://127.0.0.1:8080\n' "$WB"
printf '  %s findings --url http://127.0.0.1:8080 --tag evict\n' "$WB"
printf '  %s device show %s --url http://127.0.0.1:8080\n' "$WB" "$BLADE"
printf '  %s device export %s --url http://127.0.0.1:8080 --out my.passport\n' "$WB" "$PART"
printf 'or with the personas of step 12 (reads need a token):\n'
printf '  %s serve --config %s/service.ini &\n' "$WB" "$D"
printf '  WAYBILL_TOKEN=%s %s fleet --url %s\n' "$TOKEN" "$WB" "$URL"
printf 'console: %s/ui/  token: %s\n' "$URL" "$TOKEN"
