#!/bin/sh
# test_console.sh: the web console (ui/, docs/console.md) in a real browser.
#
# Starts `waybill serve --dev` on a free loopback port, registers a
# simulated fleet with anomalies (`waybill sim`, as scripts/demo.sh does),
# checks the static route /ui/ with curl (types, caching, strict paths),
# then restarts the server on the same data with two personas (an auditor
# and a supplier scoped to one manufacturer, bearer tokens from files) and
# drives the console in headless Chromium (the Debian package `chromium`)
# with puppeteer-core, installed from tests/ui/package-lock.json into a
# test-local folder (kept in the build tree on later runs, like
# tests/interop): tests/ui/console.mjs says what it checks. Before that,
# tests/ui/modules.mjs runs the console's CBOR decoder and receipt check in
# Node against vectors and receipts it makes (ES256, ES384, Ed25519).
#
# WB_UI_SCREENSHOTS=DIR also writes PNG screenshots of the main pages there;
# the documentation's are made with WB_UI_SCREENSHOTS=$PWD/docs/img
# (docs/console.md).
#
# Needs node, npm and chromium (scripts/install-deps.sh installs them) and,
# on the first run in a build tree, the npm registry. A missing browser or a
# failed install fails the test; it is never skipped.
set -u
WB=${WB_BIN:?WB_BIN must name the waybill binary}
SRC=${WB_SRC:?WB_SRC must name the source directory}
HERE=$SRC/tests/ui
T0=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wbui.XXXXXX")
SRV=
cleanup() {
    if [ -n "$SRV" ]; then kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
die() { echo "ui: FAIL: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || die "node is not on PATH; run scripts/install-deps.sh"
command -v npm >/dev/null 2>&1 || die "npm is not on PATH; run scripts/install-deps.sh"
CHROMIUM=$(command -v chromium || command -v chromium-browser) ||
    die "chromium is not on PATH; run scripts/install-deps.sh (installs the Debian package chromium)"
command -v curl >/dev/null 2>&1 || die "curl is not on PATH"

# start [ARGS...]: waybill serve on a free loopback port; sets URL
start() {
    rm -f "$WORK/port"
    "$WB" serve "$@" >"$WORK/serve.log" 2>&1 &
    SRV=$!
    i=0
    while [ ! -s "$WORK/port" ]; do
        kill -0 "$SRV" 2>/dev/null || { SRV=; return 1; }
        i=$((i + 1))
        [ $i -le 200 ] || die "server wrote no port file within 20 s"
        sleep 0.1
    done
    URL=http://127.0.0.1:$(cat "$WORK/port")
}
stop() { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; SRV=; }

# ---- the verification modules on their own (Node's WebCrypto) ----
node "$HERE/modules.mjs" "$SRC" >"$WORK/modules.out" 2>&1 || fail "ui/js modules, see below"
sed 's/^/  modules | /' "$WORK/modules.out" | grep -v '^  modules | ok' | tail -20

# ---- a simulated fleet with anomalies ----
start --dev "$WORK/svc" --listen 127.0.0.1:0 --port-file "$WORK/port" ||
    { cat "$WORK/serve.log" >&2; die "server exited"; }
"$WB" sim --url "$URL" --admin-key "$WORK/svc/admin.key" --dir "$WORK/fleet" \
    --racks 2 --blades 4 --parts 6 --inject swap,clone,custody-gap,revoked-fw --json \
    >"$WORK/sim.json" 2>"$WORK/sim.err" || { cat "$WORK/sim.err" >&2; die "waybill sim failed"; }
sample() { sed -n "s/.*\"$1\": *\"\\([0-9a-f]*\\)\".*/\\1/p" "$WORK/sim.json" | head -1; }
BLADE=$(sample sample_blade)
RACK=$(sample sample_rack)
[ ${#BLADE} -eq 64 ] && [ ${#RACK} -eq 64 ] || die "no sample blade or rack in the simulator's output"
# the findings are registered in the batch after the entries that raise them
i=0
until curl -sf "$URL/findings?status=open" | grep -q '"rule":"custody-gap"'; do
    i=$((i + 1))
    [ $i -le 100 ] || die "the simulated anomalies raised no findings within 10 s"
    sleep 0.1
done

# ---- the static route: types, caching, strict paths ----
# code PATH: the status of GET PATH, the path sent as it is
code() { curl -s --path-as-is -o /dev/null -w '%{http_code}' "$URL$1"; }
curl -s -D "$WORK/h" -o "$WORK/index.html" "$URL/ui/"
grep -qi '^content-type: text/html; charset=utf-8' "$WORK/h" || fail "/ui/: not text/html"
grep -qi '^cache-control: no-cache' "$WORK/h" || fail "/ui/: no Cache-Control: no-cache"
grep -qi "^content-security-policy: default-src 'none'; script-src 'self'" "$WORK/h" ||
    fail "/ui/: no same-origin Content-Security-Policy"
cmp -s "$WORK/index.html" "$SRC/ui/index.html" || fail "/ui/ is not ui/index.html"
curl -s -D "$WORK/h" -o /dev/null "$URL/ui/js/app.js"
grep -qi '^content-type: text/javascript' "$WORK/h" || fail "/ui/js/app.js: not text/javascript"
curl -s -D "$WORK/h" -o /dev/null "$URL/ui/css/console.css"
grep -qi '^content-type: text/css' "$WORK/h" || fail "/ui/css/console.css: not text/css"
[ "$(code /ui)" = 301 ] || fail "/ui does not redirect"
curl -s -D "$WORK/h" -o /dev/null "$URL/ui"
grep -qi '^location: /ui/' "$WORK/h" || fail "/ui does not redirect to /ui/"
for p in /ui/../CMakeLists.txt /ui/%2e%2e/CMakeLists.txt /ui/js/../../CMakeLists.txt \
         /ui/.hidden /ui/js/ /ui//index.html /ui/nope.html /ui/index.html/ \
         /ui/README /ui/js/%2fetc%2fpasswd; do
    [ "$(code "$p")" = 404 ] || fail "GET $p: $(code "$p"), want 404"
done
# a symbolic link out of the directory is not followed out of it
mkdir -p "$WORK/ui" && cp -R "$SRC/ui/." "$WORK/ui/" && ln -s /etc/passwd "$WORK/ui/leak.txt"
echo "static route checked"

# ---- the same ledger with two personas ----
stop
mkdir -p "$WORK/tokens"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/tokens/auditor"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/tokens/tailspin"
cat >"$WORK/service.ini" <<INI
[service]
name = localhost/waybill-dev
data_dir = $WORK/svc
dev = true
listen = 127.0.0.1:0
port_file = $WORK/port
[ui]
dir = $WORK/ui
[persona ann]
kind = auditor
token_file = $WORK/tokens/auditor
[persona tailspin]
kind = supplier
manufacturers = Tailspin Storage
token_file = $WORK/tokens/tailspin
INI
PERSONAS='[{"label": "auditor ann", "name": "ann", "kind": "auditor", "token": "'$(cat "$WORK/tokens/auditor")'"},
            {"label": "supplier tailspin", "name": "tailspin", "kind": "supplier", "token": "'$(cat "$WORK/tokens/tailspin")'"}]'
if ! start --config "$WORK/service.ini"; then
    if grep -q 'unknown section \[persona' "$WORK/serve.log"; then
        # a build without personas: every read is open in dev mode
        echo "ui: this build has no [persona] sections: one session, no scopes"
        sed -i '/^\[persona/,$d' "$WORK/service.ini"
        PERSONAS='[]'
        start --config "$WORK/service.ini" || { cat "$WORK/serve.log" >&2; die "server exited"; }
    else
        cat "$WORK/serve.log" >&2
        die "server exited with the persona configuration"
    fi
fi
[ "$(code /ui/leak.txt)" = 404 ] || fail "a symbolic link out of [ui] dir was followed"

# ---- puppeteer-core, pinned by the lock file, installed test-locally ----
BUILD=$(dirname "$WB")
LOCKSUM=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
CACHE=
[ -f "$BUILD/CMakeCache.txt" ] && CACHE=$BUILD/ui-node
if [ -n "$CACHE" ] && [ "$(cat "$CACHE/.lock-sha256" 2>/dev/null)" = "$LOCKSUM" ] &&
   [ -f "$CACHE/node_modules/puppeteer-core/package.json" ]; then
    MODS=$CACHE
else
    MODS=$WORK/node
    mkdir -p "$MODS"
    cp "$HERE/package.json" "$HERE/package-lock.json" "$MODS/"
    if ! timeout 120 npm ci --prefix "$MODS" --cache "$WORK/npm-cache" \
            --ignore-scripts --no-audit --no-fund --no-update-notifier \
            --fetch-retries=2 --fetch-retry-mintimeout=1000 \
            --fetch-retry-maxtimeout=5000 --fetch-timeout=20000 \
            --loglevel=error >"$WORK/npm.log" 2>&1; then
        sed 's/^/  npm | /' "$WORK/npm.log" >&2
        die "npm ci of puppeteer-core (tests/ui/package-lock.json) failed;" \
            "the first run in a build tree needs the npm registry"
    fi
    echo "ui: installed puppeteer-core with npm ci"
    if [ -n "$CACHE" ] && cp -R "$MODS" "$CACHE.tmp.$$" 2>/dev/null &&
       echo "$LOCKSUM" >"$CACHE.tmp.$$/.lock-sha256"; then
        rm -rf "$CACHE" && mv "$CACHE.tmp.$$" "$CACHE"
    fi
    rm -rf "$CACHE.tmp.$$"
fi

# ---- the console in headless Chromium ----
SHOTS=null
[ -n "${WB_UI_SCREENSHOTS:-}" ] && SHOTS="\"$(cd "$WB_UI_SCREENSHOTS" 2>/dev/null && pwd || echo "$WB_UI_SCREENSHOTS")\""
cat >"$WORK/config.json" <<JSON
{"url": "$URL", "chromium": "$CHROMIUM", "blade": "$BLADE", "rack": "$RACK",
 "work": "$WORK", "screenshots": $SHOTS, "personas": $PERSONAS}
JSON
HOME=$WORK timeout 120 node "$HERE/console.mjs" "$MODS" "$WORK/config.json" >"$WORK/node.out" 2>&1
node_rc=$?
sed 's/^/  browser | /' "$WORK/node.out"
[ $node_rc -eq 0 ] || fail "browser checks (exit $node_rc), see above"
grep -q '^ok corruption: that entry shows NOT verified' "$WORK/node.out" ||
    fail "the corrupted receipt was not shown as NOT verified"

echo "ui: $(grep -c '^ok ' "$WORK/node.out") browser checks passed ($(($(date +%s) - T0)) s)"
[ $fails -eq 0 ] || { echo "ui: $fails failure(s)"; exit 1; }
