#!/bin/bash
# install-deps.sh: installs the Debian packages rill needs to build and test.
# Idempotent and quiet when everything is there already; uses apt-get (with
# sudo when not root). Debian 12 (bookworm) is the reference system.
set -euo pipefail

packages=(
    build-essential autoconf automake libtool pkg-config
    librdkafka-dev libglib2.0-dev libjson-glib-dev librocksdb-dev libcmocka-dev
    zlib1g-dev libzstd-dev liblz4-dev libsnappy-dev libmicrohttpd-dev
    python3 python3-kafka kcat nodejs npm
    procps iproute2 curl ca-certificates
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done
# Node.js may come from elsewhere than Debian's package; accept a working one.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    filtered=()
    for p in "${missing[@]}"; do
        case "$p" in nodejs | npm) ;; *) filtered+=("$p") ;; esac
    done
    missing=("${filtered[@]+"${filtered[@]}"}")
fi
# The kafkajs client of the integration tests (tests/js): `npm ci` from the
# committed lock file, only when node_modules is missing.
install_js_deps() {
    local js_dir
    js_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/js"
    [ -f "$js_dir/package-lock.json" ] || return 0
    [ -d "$js_dir/node_modules/kafkajs" ] && return 0
    command -v npm >/dev/null 2>&1 || return 0
    echo "install-deps: npm ci in tests/js (kafkajs)" >&2
    (cd "$js_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
        echo "install-deps: npm ci in tests/js failed; the kafkajs tests will be skipped" >&2
}

if [ "${#missing[@]}" -eq 0 ]; then
    install_js_deps
    exit 0
fi

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
install_js_deps
