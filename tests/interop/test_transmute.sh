#!/bin/sh
# test_transmute.sh: waybill's receipts (RFC 9942) and transparent
# statements (RFC 9943) checked by an independent implementation, the npm
# package @transmute/cose 0.2.11, and by `waybill verify`.
#
# Starts `waybill serve --dev` on a free loopback port in a temporary
# directory, registers statements from three issuers (two ES256, one ES384)
# with the CLI, installs @transmute/cose from tests/interop/package-lock.json
# into a test-local folder (reused from the build tree on later runs), and
# then: every receipt must verify with both verifiers, and every tampered
# variant (payload, receipt signature, inclusion path, leaf index, tree
# size, another statement's receipt) must be rejected by both.
#
# Needs node and npm (scripts/install-deps.sh installs them) and, on the
# first run in a build tree, the npm registry. A failed install fails the
# test; it is never skipped.
set -u
WB=${WB_BIN:?WB_BIN must name the waybill binary}
SRC=${WB_SRC:?WB_SRC must name the source directory}
HERE=$SRC/tests/interop
T0=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wbinterop.XXXXXX")
SRV=
cleanup() {
    if [ -n "$SRV" ]; then kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
TAB=$(printf '\t')
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
die() { echo "interop: FAIL: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 ||
    die "node is not on PATH; run scripts/install-deps.sh (installs nodejs and npm)"
command -v npm >/dev/null 2>&1 ||
    die "npm is not on PATH; run scripts/install-deps.sh (installs nodejs and npm)"

# ---- issuers: keys made by the CLI, allowed by kid in --dev mode ----
mkdir -p "$WORK/dev/issuers" "$WORK/keys" "$WORK/st"
for spec in alice:ES256 bob:ES256 carol:ES384; do
    name=${spec%%:*}
    "$WB" keygen --out "$WORK/keys/$name" --alg "${spec#*:}" >/dev/null ||
        die "keygen $spec"
    cp "$WORK/keys/$name.pub" "$WORK/dev/issuers/$name.pem"
done

# ---- the service on a free loopback port ----
"$WB" serve --dev "$WORK/dev" --listen 127.0.0.1:0 --port-file "$WORK/port" \
    >"$WORK/serve.log" 2>&1 &
SRV=$!
i=0
while [ ! -s "$WORK/port" ]; do
    kill -0 "$SRV" 2>/dev/null || { cat "$WORK/serve.log" >&2; SRV=; die "server exited"; }
    i=$((i + 1))
    [ $i -le 200 ] || die "server wrote no port file within 20 s"
    sleep 0.1
done
URL=http://127.0.0.1:$(cat "$WORK/port")

# register NAME ISSUER SUBJECT [untagged]: sign a JSON payload with
# ISSUER's key (dropping the leading tag 18 if asked), submit it, and list
# it in statements.tsv; returns 3 if the service refused it
register() {
    printf '{"test":"interop","issuer":"%s","subject":"%s"}' "$2" "$3" >"$WORK/st/$1.json"
    "$WB" sign --key "$WORK/keys/$2" --payload "$WORK/st/$1.json" \
        --content-type application/json --iss "$2" --sub "$3" \
        --out "$WORK/st/$1.cose" >/dev/null || die "sign $1"
    if [ "${4:-}" = untagged ]; then
        [ "$(od -An -tx1 -N1 "$WORK/st/$1.cose" | tr -d ' ')" = d2 ] || die "$1: not tagged 18"
        tail -c +2 "$WORK/st/$1.cose" >"$WORK/st/$1.tmp" && mv "$WORK/st/$1.tmp" "$WORK/st/$1.cose"
    fi
    "$WB" submit --url "$URL" --wait 30 "$WORK/st/$1.cose" >"$WORK/submit.out" 2>&1
    rc=$?
    [ $rc -eq 3 ] && return 3
    [ $rc -eq 0 ] || { cat "$WORK/submit.out" >&2; die "submit $1: exit $rc"; }
    [ "$1" = genesis ] ||
        printf '%s\t%s\t%s\n' "$1" "$WORK/keys/$2.pub" "$WORK/st/$1.json" >>"$WORK/statements.tsv"
}
# Entry 0 is not among the tested ones: its receipt (tree size 1) has an
# empty inclusion path, which leaves no path byte to flip, and the only other
# leaf index there is out of range, which transmute 0.2.11 does not check
# (it tests leaf_index > tree_size instead of >=).
: >"$WORK/statements.tsv"
refused() { die "submit $1 refused: $(cat "$WORK/submit.out")"; }
register genesis alice device-0 || refused genesis
for name in alice bob carol; do
    for n in 1 2; do
        register "$name-$n" "$name" "device-$name-$n" || refused "$name-$n"
    done
done
# A COSE_Sign1 without tag 18 (the tag is not signed): RFC 9943 defines
# Signed_Statement and Transparent_Statement as #6.18(COSE_Sign1), so the
# service either refuses it or registers the tagged form; either way what it
# hands back must verify like any other.
if register bob-untagged bob device-bob-untagged untagged; then :; else
    echo "interop: the service refused an untagged COSE_Sign1: $(cat "$WORK/submit.out")"
fi

# ---- @transmute/cose, pinned by the lock file, installed test-locally ----
# A copy under the build tree, stamped with the lock file's hash, spares the
# registry on later runs; the npm cache lives in $WORK, so nothing outside
# the build tree and $WORK is written.
BUILD=$(dirname "$WB")
LOCKSUM=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
CACHE=
[ -f "$BUILD/CMakeCache.txt" ] && CACHE=$BUILD/interop-node
if [ -n "$CACHE" ] && [ "$(cat "$CACHE/.lock-sha256" 2>/dev/null)" = "$LOCKSUM" ] &&
   [ -f "$CACHE/node_modules/@transmute/cose/package.json" ]; then
    MODS=$CACHE
    echo "interop: @transmute/cose from $CACHE"
else
    MODS=$WORK/node
    mkdir -p "$MODS"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$MODS/"
    if ! timeout 90 npm ci --prefix "$MODS" --cache "$WORK/npm-cache" \
            --ignore-scripts --no-audit --no-fund --no-update-notifier \
            --fetch-retries=2 --fetch-retry-mintimeout=1000 \
            --fetch-retry-maxtimeout=5000 --fetch-timeout=20000 \
            --loglevel=error >"$WORK/npm.log" 2>&1; then
        sed 's/^/  npm | /' "$WORK/npm.log" >&2
        die "npm ci of @transmute/cose (tests/interop/package-lock.json) failed;" \
            "the first run in a build tree needs the npm registry"
    fi
    echo "interop: installed @transmute/cose with npm ci"
    if [ -n "$CACHE" ] && cp -R "$MODS" "$CACHE.tmp.$$" 2>/dev/null &&
       echo "$LOCKSUM" >"$CACHE.tmp.$$/.lock-sha256"; then
        rm -rf "$CACHE" && mv "$CACHE.tmp.$$" "$CACHE"
    fi
    rm -rf "$CACHE.tmp.$$"
fi

# ---- transmute: verify every receipt, make and check tampered variants ----
node "$HERE/transmute_verify.mjs" "$MODS" "$WORK" "$URL" >"$WORK/node.out" 2>&1
node_rc=$?
sed 's/^/  transmute | /' "$WORK/node.out"
[ $node_rc -eq 0 ] || fail "transmute verification (exit $node_rc), see above"
[ -s "$WORK/scitt-keys.cbor" ] || die "no service keys fetched"
[ -s "$WORK/tampered.tsv" ] || die "no tampered variants made"
# transmute's verdicts, as transmute_verify.mjs printed them
t_accepted() { grep -q "^verified $1:" "$WORK/node.out"; }
t_rejected() { grep -q "^rejected $1:" "$WORK/node.out"; }

# ---- waybill verify: the same receipts and the same tampered files ----
# once against the service URL, then offline with the key set transmute used
"$WB" verify "$WORK/st/alice-1.cose.transparent" --url "$URL" >"$WORK/out" 2>&1 ||
    { cat "$WORK/out"; fail "waybill verify --url alice-1"; }
both_ok=0
total=0
while IFS=$TAB read -r name pem _; do
    total=$((total + 1))
    ok=1
    "$WB" verify "$WORK/st/$name.cose.transparent" --service-key "$WORK/scitt-keys.cbor" \
        --issuer-key "$pem" --json >"$WORK/out" 2>&1 </dev/null
    rc=$?
    if [ $rc -ne 0 ] || ! grep -q '"issuer_signature": "verified"' "$WORK/out"; then
        fail "waybill verify $name.cose.transparent: exit $rc"; sed 's/^/  | /' "$WORK/out"; ok=0
    fi
    "$WB" verify "$WORK/st/$name.cose" --receipt "$WORK/st/$name.cose.receipt" \
        --service-key "$WORK/scitt-keys.cbor" --issuer-key "$pem" >"$WORK/out" 2>&1 </dev/null
    rc=$?
    [ $rc -eq 0 ] || { fail "waybill verify $name.cose --receipt: exit $rc"; sed 's/^/  | /' "$WORK/out"; ok=0; }
    t_accepted "$name" || ok=0
    [ $ok -eq 1 ] && both_ok=$((both_ok + 1))
done <"$WORK/statements.tsv"

both_rej=0
variants=0
while IFS=$TAB read -r file pem; do
    variants=$((variants + 1))
    case_=$(basename "$file" .cose)
    "$WB" verify "$file" --service-key "$WORK/scitt-keys.cbor" --issuer-key "$pem" \
        >"$WORK/out" 2>&1 </dev/null
    rc=$?
    # 1 = did not verify; every variant is well-formed, so nothing else will do
    if [ $rc -ne 1 ]; then
        fail "waybill verify $case_: exit $rc (want 1, rejected)"; sed 's/^/  | /' "$WORK/out"
    else
        echo "  waybill   | rejected $case_: $(grep -v '^receipt [0-9]*: OK' "$WORK/out" | head -1)"
        t_rejected "$case_" && both_rej=$((both_rej + 1))
    fi
done <"$WORK/tampered.tsv"

[ "$total" -ge 6 ] || fail "only $total statements registered"
[ "$both_ok" -eq "$total" ] || fail "$both_ok of $total receipts verified by both"
[ "$both_rej" -eq "$variants" ] || fail "$both_rej of $variants tampered variants rejected by both"
[ "$variants" -eq $((6 * total)) ] || fail "$variants tampered variants, want $((6 * total))"
echo "interop: $both_ok receipts verified by both, $both_rej tampered variants rejected by both" \
     "($(($(date +%s) - T0)) s)"
[ $fails -eq 0 ] || { echo "interop: $fails failure(s)"; exit 1; }
