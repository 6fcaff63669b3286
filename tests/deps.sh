#!/usr/bin/env bash
# Makes sure the tools a make target needs are present. What is missing is installed
# through apt-get when this runs as root (or with password-less sudo) on a Debian-like
# system; otherwise, or when apt-get fails, it says exactly what to install and fails.
#   tests/deps.sh cc python3 bearssl ...
#   tests/deps.sh --check mbedtls       only says (exit status) whether all are present
# Names:
#   cc       a C compiler ($CC, default cc) that builds a program (gcc, libc6-dev)
#   bearssl  the BearSSL headers and library, built with $CC (libbearssl-dev)
#   mbedtls  the mbedTLS headers and libraries, built with $CC (libmbedtls-dev)
#   asan     clang's AddressSanitizer and UBSan runtime (libclang-rt-N-dev)
#   other    a command, from the Debian package in the table below (or of that name)
set -u
cc=${CC:-cc}
declare -A pkg=([gcc]=gcc [clang]=clang [python3]=python3 [make]=make [g++]=g++ [npm]=npm [node]=nodejs
                [openssl]=openssl [valgrind]=valgrind [faketime]=faketime [curl]=curl)

# compiles SOURCE [LINK FLAGS]: $CC builds SOURCE into a program.
compiles() {
    local src=$1
    shift
    printf '%s\n' "$src" | $cc -x c - -o /dev/null "$@" >/dev/null 2>&1
}

have() {
    case $1 in
        cc) compiles '#include <stdio.h>
int main(void){return puts("") < 0;}' ;;
        bearssl) compiles '#include <bearssl.h>
int main(void){return br_sha256_ID == 0;}' -lbearssl ;;
        mbedtls) compiles '#include <mbedtls/ssl.h>
int main(void){mbedtls_ssl_context s; mbedtls_ssl_init(&s); mbedtls_ssl_free(&s); return 0;}' \
                     -lmbedtls -lmbedx509 -lmbedcrypto ;;
        asan) printf 'int main(void){return 0;}\n' |
                  clang -fsanitize=address,undefined -x c - -o /dev/null >/dev/null 2>&1 ;;
        *) command -v "$1" >/dev/null 2>&1 ;;
    esac
}

# packages NAME: the Debian packages that provide NAME.
packages() {
    local v
    case $1 in
        cc) if command -v "${cc%% *}" >/dev/null 2>&1; then echo libc6-dev     # no C headers
            else case ${cc%% *} in *clang*) echo clang libc6-dev ;; *) echo gcc libc6-dev ;; esac; fi ;;
        bearssl) echo libbearssl-dev ;;
        mbedtls) echo libmbedtls-dev ;;
        asan) if command -v clang >/dev/null 2>&1; then
                  v=$(clang -dumpversion 2>/dev/null); v=${v%%.*}
                  if apt-cache show "libclang-rt-$v-dev" >/dev/null 2>&1; then echo "libclang-rt-$v-dev"
                  else echo "libclang-common-$v-dev"; fi
              else echo clang; fi ;;
        *) echo "${pkg[$1]:-$1}" ;;
    esac
}

# list NAME...: the packages for these names, each once.
list() {
    local n p out=" "
    for n in "$@"; do
        for p in $(packages "$n"); do
            case $out in *" $p "*) ;; *) out="$out$p " ;; esac
        done
    done
    out=${out# }
    echo "${out% }"
}

# absent NAME...: sets missing to those of the names that are not present and need to
# their packages; fails when every one is present.
absent() {
    local n
    missing=()
    for n in "$@"; do
        have "$n" || missing+=("$n")
    done
    [ ${#missing[@]} -gt 0 ] || return 1
    need=$(list "${missing[@]}")
}

if [ "${1:-}" = --check ]; then
    shift
    absent "$@" && exit 1
    exit 0
fi
absent "$@" || exit 0
echo "deps: missing: $need" >&2
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=none; fi
    if [ "$sudo" != none ]; then
        echo "deps: installing with apt-get: $need" >&2
        $sudo apt-get update -qq >/dev/null 2>&1
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need >/dev/null
        absent "${missing[@]}" || exit 0
        echo "deps: apt-get could not install: $need" >&2
    fi
fi
echo "deps: please install: $need   (on Debian/Ubuntu: sudo apt-get install $need)" >&2
exit 1
