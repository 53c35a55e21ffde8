#!/bin/sh
# install-deps.sh: install the Debian 12 packages waybill builds, tests and
# runs with, and only those that are missing. `apt-get update` runs only when
# something has to be installed. Run as root (make test / make demo call it).
#
# Usage: scripts/install-deps.sh [extra-package...]
#   WAYBILL_DEPS_EXTRA="pkg ..."  adds packages (make fuzz adds clang's runtime).
set -eu

PACKAGES="
gcc make cmake pkg-config ca-certificates
libssl-dev
libcbor-dev
libmicrohttpd-dev
libgnutls28-dev
libsqlite3-dev
libpq-dev
postgresql-15
libjansson-dev
libinih-dev
libcurl4-openssl-dev
libcmocka-dev
libtss2-dev
libtss2-tcti-swtpm0
swtpm
swtpm-tools
"
# postgresql-15: the server the PostgreSQL tests start in a temporary
# directory (tests/support/wbtest_pg.c, /usr/lib/postgresql/15/bin); it
# also makes the unprivileged 'postgres' user they run it as
# libtss2-dev (tpm2-tss ESAPI) and swtpm/swtpm-tools (a software TPM 2.0 and
# swtpm_setup, which makes its EK certificate) run tests/tpm/test_tpm.c;
# libtss2-tcti-swtpm0 is the TCTI that talks to swtpm over TCP
# node and npm run tests/interop/test_transmute.sh (@transmute/cose); asked
# for only when missing from PATH, so a node installed another way is kept
command -v node >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs"
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"
# chromium: the real browser tests/ui/test_console.sh drives headless (with
# puppeteer-core from npm) to check the web console and its in-browser
# receipt verification; the console itself needs no package
PACKAGES="$PACKAGES chromium"

missing=""
for p in $PACKAGES ${WAYBILL_DEPS_EXTRA:-} "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    if [ "$status" != "installed" ]; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

echo "install-deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: must run as root to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
