#!/bin/sh
# demo.sh WAYBILL_BIN: the command-line log journey, step by step, as a user
# would type it: create a log, record a few supply-chain events, take the
# signed checkpoint, prove an entry is in the log, verify that proof offline
# with nothing but the public key, grow the log and prove it only grew.
# Later issues grow this into the full provenance journey over HTTP.
set -eu
WB=${1:-build/waybill}
case "$WB" in /*) ;; *) WB="$(pwd)/$WB" ;; esac
D=$(mktemp -d "${TMPDIR:-/tmp}/waybill-demo.XXXXXX")
trap 'rm -rf "$D"' EXIT
cd "$D"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }

step "1. Create a log (its Ed25519 key is made here; log.pub is what verifiers trust)"
run "$WB" log init ledger --origin demo.waybill.dev/ledger

step "2. Record what happened to a root of trust, one entry per event"
cat >manifest.json <<'J'
{"kind":"manifest","supplier":"Contoso Silicon","device":"rot-7f3a","class":"rot","serial":"CS-000417"}
J
cat >assembly.json <<'J'
{"kind":"assembly","integrator":"Fabrikam Systems","parent":"blade-0042","slot":"rot0","child":"rot-7f3a"}
J
cat >custody.json <<'J'
{"kind":"custody","carrier":"Northwind Freight","shipment":"NW-88812","event":"ship","units":["blade-0042"]}
J
run "$WB" log append ledger manifest.json assembly.json custody.json

step "3. The log's signed checkpoint: origin, size, root hash, signature"
run "$WB" log checkpoint ledger | tee checkpoint-3.txt

step "4. Prove the assembly record (entry 1) is in the log (C2SP tlog-proof)"
run "$WB" log prove ledger inclusion 1 | tee assembly.proof

step "5. Anyone verifies it offline with the public key alone"
run "$WB" log verify inclusion assembly.proof assembly.json --key ledger/log.pub

step "6. A doctored record does not verify (exit code 1)"
sed 's/rot-7f3a/rot-ffff/' assembly.json >forged.json
if "$WB" log verify inclusion assembly.proof forged.json --key ledger/log.pub; then
    echo "demo: a forged record verified; this must never happen" >&2
    exit 1
else
    echo "(refused, as it must be: exit code $?)"
fi

step "7. The datacenter receives the blade; the log grows"
cat >intake.json <<'J'
{"kind":"intake","site":"dc-west-2","shipment":"NW-88812","found":{"rot0":"rot-7f3a"},"verdict":"match"}
J
run "$WB" log append ledger intake.json

step "8. Prove the new tree extends the one in checkpoint-3.txt (nothing rewritten)"
run "$WB" log prove ledger consistency 3 | tee grow.proof
run "$WB" log verify consistency grow.proof checkpoint-3.txt --key ledger/log.pub

step "9. An oversized or empty entry is refused, and nothing is written"
: >empty.json
if "$WB" log append ledger empty.json; then
    echo "demo: an empty entry was accepted" >&2
    exit 1
fi
run "$WB" log checkpoint ledger --json

printf '\nDemo complete: 4 entries, every proof verified offline with ledger/log.pub.\n'
