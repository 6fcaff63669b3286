#!/usr/bin/env bash
# ali_oss_check.sh - check tests/oss_server.py against the official ali-oss SDK.
#
# Installs ali-oss from the npm registry into tests/.node/ (git-ignored;
# reused on later runs, so npm is needed only the first time), starts the
# test server on a free loopback port with a bounded lifetime, and runs
# tests/ali_oss_check.js: PutObject, multipartUpload (partSize 100 KiB,
# parallel 2), get back and compare, with V1 and V4 signatures, path style
# and virtual-hosted style, and an STS token; then listUploads (one page,
# and paged one upload at a time with key-marker and upload-id-marker),
# listParts (its LastModified) and abortMultipartUpload.
#
# Exit status: 0 when everything matched, or when node, npm, the npm registry
# or ali-oss is not available ("ali_oss_check: skipped: <reason>", one line);
# non-zero on a real mismatch.
set -u

here=$(cd "$(dirname "$0")" && pwd)
cd "$here" || exit 1

skip() {
    echo "ali_oss_check: skipped: $*"
    exit 0
}

command -v node >/dev/null 2>&1 || skip "node is not installed (Debian: apt-get install nodejs npm)"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"

if [ ! -f .node/node_modules/ali-oss/package.json ]; then
    command -v npm >/dev/null 2>&1 || skip "npm is not installed, so ali-oss cannot be installed (Debian: apt-get install npm)"
    echo "ali_oss_check: installing ali-oss from the npm registry into tests/.node (for the official-SDK check)"
    mkdir -p .node
    [ -f .node/package.json ] || echo '{"name": "ali-oss-check", "private": true}' > .node/package.json
    # Few and short retries, so that an unreachable registry is a skip within seconds.
    if ! timeout 300 npm install --prefix .node --no-audit --no-fund --loglevel=error \
            --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000 \
            --fetch-timeout=60000 ali-oss@6 > .node/install.log 2>&1; then
        if grep -qE 'ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|ENETUNREACH|EHOSTUNREACH|network' \
                .node/install.log; then
            skip "the npm registry ($(npm config get registry 2>/dev/null)) cannot be reached (see tests/.node/install.log)"
        fi
        skip "npm install ali-oss failed (see tests/.node/install.log)"
    fi
    [ -f .node/node_modules/ali-oss/package.json ] || skip "ali-oss missing after npm install"
fi
echo "ali_oss_check: ali-oss $(node -p "require('./.node/node_modules/ali-oss/package.json').version")," \
     "node $(node --version)"

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

python3 oss_server.py --port 0 --port-file "$work/port" --lifetime 300 --quiet \
    --credentials test-ak:test-secret --credentials sts-ak:sts-secret:sts-token \
    > "$work/server.out" 2> "$work/server.err" &
server_pid=$!

for _ in $(seq 1 100); do
    [ -s "$work/port" ] && break
    sleep 0.1
done
if [ ! -s "$work/port" ]; then
    echo "ali_oss_check: FAIL: the server did not start"
    cat "$work/server.err"
    exit 1
fi
port=$(cat "$work/port")

OSS_PORT=$port timeout 300 node ali_oss_check.js
rc=$?
if [ $rc -ne 0 ] && [ -s "$work/server.err" ]; then
    echo "--- server stderr ---"
    cat "$work/server.err"
fi
exit $rc
