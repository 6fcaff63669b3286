#!/usr/bin/env bash
# Makes sure the tools the build and the tests need are present. What is missing is
# installed through apt-get when this runs as root (or with password-less sudo) on a
# Debian-like system; otherwise it says exactly what to install and fails.
#   tests/deps.sh cc python3 clang ...      (command names)
set -u
#   "bearssl" stands for the BearSSL headers and library (libbearssl-dev).
declare -A pkg=([cc]=gcc [gcc]=gcc [clang]=clang [python3]=python3 [make]=make [g++]=g++ [npm]=npm [node]=nodejs
                [bearssl]=libbearssl-dev [openssl]=openssl)
have() {
    if [ "$1" = bearssl ]; then
        printf '#include <bearssl.h>\nint main(void){return br_sha256_ID == 0;}\n' |
            ${CC:-cc} -x c - -o /dev/null -lbearssl >/dev/null 2>&1
    else
        command -v "$1" >/dev/null 2>&1
    fi
}
missing=()
for c in "$@"; do
    have "$c" || missing+=("${pkg[$c]:-$c}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: missing: ${missing[*]}" >&2
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=none; fi
    if [ "$sudo" != none ]; then
        echo "deps: installing with apt-get: ${missing[*]}" >&2
        $sudo apt-get update -qq >/dev/null 2>&1
        if DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; then
            exit 0
        fi
    fi
fi
echo "deps: please install: ${missing[*]}   (on Debian/Ubuntu: sudo apt-get install ${missing[*]})" >&2
exit 1
