#!/usr/bin/env bash
# tests/matrix.sh - builds and runs oss_resumable.h on every target its users have:
# strict C99 with gcc and clang, C++, two private copies in one program, every
# combination of the feature switches, a clean symbol table, 32-bit x86, a static musl
# binary with TLS, big-endian s390x and PowerPC, Windows (mingw-w64 under wine) and a
# Cortex-M4 with newlib. One line per stage ("ok   stage ..." or "FAIL stage ..." with
# the compiler output), then a summary; the exit status is non-zero when a stage fails.
#
#     bash tests/matrix.sh              every stage (make matrix)
#     bash tests/matrix.sh m32 musl     only these
#
# Stages: strict c++ static switches symbols m32 musl bigendian windows baremetal.
# Meant for Debian 12: missing tools are installed with apt-get (as root, or with
# password-less sudo). Everything it builds goes under build/matrix/; the sizes it
# reports are also written to build/matrix/sizes.txt. Each stage's full output is in
# build/matrix/logs/STAGE.log.
set -u

cd "$(dirname "$0")/.." || exit 2
M=build/matrix
LOGS=$M/logs
mkdir -p "$LOGS"

# The Makefile's warning flags (make matrix passes its WARN; this is the same list).
WARN=${WARN:-"-std=c99 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wundef -Wcast-qual"}
CXXWARN="-x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror"
# Cortex-M4 with its single-precision FPU, as tests/bench/size.py measures it, plus
# section garbage collection as a firmware build links it.
ARM_CPU="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
ARM_FLAGS="$ARM_CPU -Os -ffunction-sections -fdata-sections"
ARM_SWITCHES="-DOSSR_NO_THREADS -DOSSR_NO_SOCKETS -DOSSR_NO_STDIO -DOSSR_NO_TLS"
BEARSSL_A=/usr/lib/x86_64-linux-gnu/libbearssl.a
LIB_TU=tests/bench/size_lib.c          # the implementation alone in one translation unit

# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------

# run CMD...: shows the command in the stage's log, then runs it.
run() { printf '$ %s\n' "$*"; "$@"; }

# unit_ok FILE: the output of a test_unit run in FILE ends in "unit: N passed, 0 failed";
# prints N.
unit_ok() {
    local last
    last=$(tr -d '\r' <"$1" | grep '^unit: ' | tail -n 1)   # wine writes CRLF
    case $last in
        "unit: "*" passed, 0 failed") last=${last#unit: }; echo "${last%% *}"; return 0 ;;
    esac
    return 1
}

# run_unit NAME CMD...: runs a test_unit build (with the tests directory as its argument,
# which the caller includes), keeps its output in $M/NAME.out and in the log; succeeds
# when it exits 0 and reports no failure. Sets UNIT_N to the number of passed checks.
UNIT_N=0
run_unit() {
    local name=$1 out=$M/$1.out rc
    shift
    printf '$ %s\n' "$*"
    "$@" >"$out" 2>&1
    rc=$?
    cat "$out"
    UNIT_N=$(unit_ok "$out") && [ "$rc" = 0 ] && return 0
    echo "test_unit ($name) exited with $rc"
    return 1
}

# bytes FILE
bytes() { stat -c %s "$1"; }

# fresh DIR: an empty directory for a stage's products, so that nothing from an earlier
# run can stand in for a build that failed this time.
fresh() { rm -rf "$1" && mkdir -p "$1"; }

SIZES=()
# size_row LABEL TEXT DATA BSS FILE: one row of build/matrix/sizes.txt (empty cells: -).
size_row() { SIZES+=("$(printf '%-66s %8s %8s %8s %10s' "$1" "${2:--}" "${3:--}" "${4:--}" "${5:--}")"); }

# berkeley TOOL OBJ: "text data bss" from the size tool.
berkeley() { "$1" "$2" | awk 'NR == 2 { print $1, $2, $3 }'; }

# ---------------------------------------------------------------------------------------
# tools: what every stage needs, installed with apt-get in one go when missing.
# (gcc-multilib is deliberately not used: it conflicts with the cross compilers; 32-bit
# x86 is built with clang -m32 instead.)
# ---------------------------------------------------------------------------------------
# The Debian packages each stage needs; only those of the selected stages are installed.
declare -A PACKAGES=(
    [strict]="gcc clang make binutils python3 openssl libbearssl-dev"
    [c++]="g++ clang libbearssl-dev"
    [static]="gcc libbearssl-dev"
    [switches]="gcc"
    [symbols]="gcc binutils"
    [m32]="clang libc6-dev-i386 lib32gcc-12-dev qemu-user file"
    [musl]="musl-tools libbearssl-dev python3 openssl file"
    [bigendian]="gcc-s390x-linux-gnu libc6-dev-s390x-cross gcc-powerpc-linux-gnu libc6-dev-powerpc-cross qemu-user"
    [windows]="gcc-mingw-w64-x86-64-posix wine wine64 python3 file"
    [baremetal]="gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

ensure_tools() {
    local missing=() p s sudo="" failed=()
    for s in "${SELECTED[@]}"; do
        for p in ${PACKAGES[$s]}; do
            installed "$p" || case " ${missing[*]} " in *" $p "*) ;; *) missing+=("$p") ;; esac
        done
    done
    if [ ${#missing[@]} -eq 0 ]; then echo "tools: all present"; return 0; fi
    if [ "$(id -u)" != 0 ]; then
        if sudo -n true 2>/dev/null; then sudo="sudo -n"
        else echo "tools: missing ${missing[*]} (not root: apt-get install ${missing[*]}); stages needing them will fail"; return 1; fi
    fi
    echo "tools: installing ${missing[*]}"
    {
        $sudo apt-get update
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}" ||
            for p in "${missing[@]}"; do   # one by one, so that one missing package costs only its stage
                DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "$p"
            done
    } >"$LOGS/tools.log" 2>&1
    for p in "${missing[@]}"; do installed "$p" || failed+=("$p"); done
    if [ ${#failed[@]} -ne 0 ]; then
        echo "tools: could not install ${failed[*]} (see $LOGS/tools.log); stages needing them will fail"
        return 1
    fi
    return 0
}

# ---------------------------------------------------------------------------------------
# stages. Each writes to its log, sets NOTE to a short result and returns non-zero on
# failure.
# ---------------------------------------------------------------------------------------

# strict: the library, the tool and the tests build warning-free in strict C99 with gcc
# and clang (the Makefile's WARN, -Werror), and the unit tests pass. Where mbedTLS is
# installed, examples/mbedtls_transport.c too: alone, and in ossup without BearSSL.
stage_strict() {
    local cc f ok=0 counts="" mbedtls=""
    fresh "$M/strict"
    CC=gcc tests/deps.sh --check mbedtls && mbedtls=1
    for cc in gcc clang; do
        mkdir -p "$M/strict/$cc"
        for f in examples/ossup.c tests/test_unit.c tests/test_api.c tests/test_anchors.c tests/test_hooks.c; do
            run $cc $WARN -O2 "$f" -o "$M/strict/$cc/$(basename "$f" .c)" -lbearssl -lpthread || ok=1
        done
        if [ -n "$mbedtls" ]; then
            run $cc $WARN -O2 -c examples/mbedtls_transport.c -o "$M/strict/$cc/mbedtls_transport.o" || ok=1
            run $cc $WARN -O2 -DOSSR_NO_TLS -DOSSUP_MBEDTLS examples/ossup.c -o "$M/strict/$cc/ossup-mbedtls" \
                -lmbedtls -lmbedx509 -lmbedcrypto -lpthread || ok=1
        fi
        if [ -x "$M/strict/$cc/test_unit" ] && run_unit "strict-$cc" "$M/strict/$cc/test_unit" tests; then
            counts="$counts $cc $UNIT_N,"
        else ok=1; counts="$counts $cc failed,"; fi
    done
    NOTE="gcc, clang: ossup test_unit test_api test_anchors test_hooks${mbedtls:+ mbedtls_transport ossup-mbedtls}"
    NOTE="$NOTE; test_unit passed:${counts%,}"
    [ -n "$mbedtls" ] || NOTE="$NOTE; mbedtls_transport.c not built: mbedTLS is not installed"
    return $ok
}

# c++: the header (and with it the implementation) compiles as C++11 with g++ and
# clang++; test_unit.c too, where it is valid C++, and then it must pass.
stage_cxx() {
    local cxx ok=0 notes=""
    fresh "$M/cxx"
    for cxx in g++ clang++; do
        run $cxx $CXXWARN -c examples/ossup.c -o "$M/cxx/ossup-$cxx.o" || { ok=1; notes="$notes $cxx: ossup.c failed;"; continue; }
        if run $cxx $CXXWARN tests/test_unit.c -o "$M/cxx/test_unit-$cxx" -lbearssl -lpthread; then
            if run_unit "cxx-$cxx" "$M/cxx/test_unit-$cxx" tests; then notes="$notes $cxx: ossup.c, test_unit $UNIT_N passed;"
            else ok=1; notes="$notes $cxx: test_unit failed;"; fi
        else
            notes="$notes $cxx: ossup.c (test_unit.c is not C++);"
        fi
    done
    NOTE=${notes# }
    NOTE=${NOTE%;}
    return $ok
}

# static: OSS_RESUMABLE_STATIC gives each translation unit a private copy, so two units
# that both carry the implementation link into one program (the Makefile's cpp target).
stage_static() {
    fresh "$M/static"
    run gcc $WARN -c tests/static_tu.c -o "$M/static/static_a.o" &&
    run gcc $WARN -DTU_MAIN -c tests/static_tu.c -o "$M/static/static_b.o" &&
    run gcc "$M/static/static_a.o" "$M/static/static_b.o" -o "$M/static/static_tu" -lbearssl -lpthread &&
    run "$M/static/static_tu" || { NOTE="two OSS_RESUMABLE_STATIC units did not build, link or agree"; return 1; }
    NOTE="two OSS_RESUMABLE_STATIC units link and agree"
    return 0
}

# switches: all 32 combinations of the five feature switches compile (strict C99,
# -Werror), except the impossible family: OSSR_NO_SOCKETS with OSSR_NO_STDIO leaves no
# operating system layer, hence no threads, so without OSSR_NO_THREADS the header must
# stop with an #error that names OSSR_NO_THREADS.
stage_switches() {
    local names=(OSSR_NO_THREADS OSSR_NO_TLS OSSR_NO_STDIO OSSR_NO_SOCKETS OSSR_NO_MALLOC)
    local mask i defs label out rc good=0 bad=0 unexpected=() d=$M/switches cpus
    cpus=$(nproc 2>/dev/null || echo 2)
    fresh "$d"
    # switch set number MASK: bit i set = names[i] defined
    defs_of() { local i; for ((i = 0; i < 5; i++)); do (( $1 >> i & 1 )) && printf ' -D%s' "${names[i]}"; done; }
    # compile all 32 (one compiler per CPU), then judge each
    for ((mask = 0; mask < 32; mask++)); do
        defs=$(defs_of $mask)
        echo "\$ gcc $WARN$defs -c $LIB_TU"
        ( gcc $WARN $defs -c $LIB_TU -o "$d/$mask.o" >"$d/$mask.txt" 2>&1; echo $? >"$d/$mask.rc" ) &
        while [ "$(jobs -rp | wc -l)" -ge "$cpus" ]; do wait -n; done
    done
    wait
    for ((mask = 0; mask < 32; mask++)); do
        defs=$(defs_of $mask)
        label=$(echo $defs | sed 's/-DOSSR_NO_//g; s/ /+/g'); label=${label:-none}
        out=$(cat "$d/$mask.txt"); rc=$(cat "$d/$mask.rc")
        if (( (mask >> 2 & 1) && (mask >> 3 & 1) && !(mask & 1) )); then   # no stdio, no sockets, threads
            if [ "$rc" != 0 ] && printf '%s\n' "$out" | grep '#error' | grep -q 'OSSR_NO_THREADS'; then
                good=$((good + 1)); echo "ok   $label: refused: $(printf '%s\n' "$out" | grep -m 1 '#error' | sed 's/.*#error *//')"
            elif [ "$rc" = 0 ]; then
                bad=$((bad + 1)); unexpected+=("$label(compiles)"); echo "FAIL $label: compiles, but must stop with an #error naming OSSR_NO_THREADS"
            else
                bad=$((bad + 1)); unexpected+=("$label(wrong error)"); echo "FAIL $label: fails, but not with an #error naming OSSR_NO_THREADS:"
                printf '%s\n' "$out" | grep -m 5 'error'
            fi
        elif [ "$rc" = 0 ]; then
            good=$((good + 1)); echo "ok   $label: compiles"
        else
            bad=$((bad + 1)); unexpected+=("$label"); echo "FAIL $label: does not compile:"; printf '%s\n' "$out" | grep -m 5 'error'
        fi
    done
    NOTE="$good/32 as expected (24 compile, 8 refused with #error naming OSSR_NO_THREADS)"
    [ $bad = 0 ] && return 0
    NOTE="$good/32 as expected; unexpected: ${unexpected[*]}"
    return 1
}

# symbols: a program linking the library sees only its public names: every external
# symbol of the implementation starts with ossr_ (ossr__ names are private and must stay
# static); with OSS_RESUMABLE_STATIC there are none at all.
stage_symbols() {
    local syms offenders n static_syms
    fresh "$M/symbols"
    run gcc $WARN -O2 -c $LIB_TU -o "$M/symbols/impl.o" || { NOTE="the implementation does not compile"; return 1; }
    run gcc $WARN -O2 -DOSS_RESUMABLE_STATIC -Wno-unused-function -c $LIB_TU -o "$M/symbols/impl_static.o" ||
        { NOTE="the implementation does not compile with OSS_RESUMABLE_STATIC"; return 1; }
    syms=$(nm -g --defined-only "$M/symbols/impl.o" | awk '{ print $3 }')
    echo "external symbols:"; printf '  %s\n' $syms
    n=$(printf '%s\n' $syms | grep -c .)
    offenders=$(printf '%s\n' $syms | grep -v '^ossr_' ; printf '%s\n' $syms | grep '^ossr__')
    static_syms=$(nm -g --defined-only "$M/symbols/impl_static.o" | awk '{ print $3 }')
    if [ -n "$offenders" ] || [ -n "$static_syms" ]; then
        NOTE=""
        [ -n "$offenders" ] && NOTE="offenders: $(echo $offenders)"
        [ -n "$static_syms" ] && NOTE="${NOTE:+$NOTE; }external with OSS_RESUMABLE_STATIC: $(echo $static_syms)"
        return 1
    fi
    NOTE="$n external symbols, all ossr_*; none with OSS_RESUMABLE_STATIC"
    return 0
}

# m32: 32-bit x86 (clang -m32; the kernel here may not run i386 binaries, so qemu-i386
# does): the unit tests pass, the 5 GiB sparse-file test included, i.e. a file over
# 4 GiB is sized, planned and read at a part past 4 GiB with 32-bit pointers.
stage_m32() {
    local exe=$M/m32/test_unit what
    fresh "$M/m32"
    run clang -m32 $WARN -O2 -idirafter /usr/include/x86_64-linux-gnu -DOSSR_NO_TLS tests/test_unit.c -o "$exe" -lpthread ||
        { NOTE="clang -m32 build failed"; return 1; }
    what=$(file -b "$exe"); echo "file: $what"
    case $what in *"ELF 32-bit"*"80386"*) ;; *) NOTE="not a 32-bit x86 binary: $what"; return 1 ;; esac
    run_unit m32 qemu-i386 "$exe" tests || { NOTE="test_unit failed under qemu-i386"; return 1; }
    if grep -q 'large sparse file.*skipped' "$M/m32.out"; then
        NOTE="test_unit passed but skipped the 5 GiB sparse file (this /tmp refuses it)"; return 1
    fi
    NOTE="ELF 32-bit (4-byte pointers), qemu-i386: test_unit $UNIT_N passed, 5 GiB sparse file included"
    return 0
}

# musl: a static, self-contained ossup with TLS: musl libc and Debian's BearSSL archive.
# The binary runs and uploads over https:// to the test server (multipart, two workers).
stage_musl() {
    local d=$M/musl exe=$M/musl/ossup why="" shim="" u s flags
    fresh "$d"; mkdir -p "$d/musl-inc"
    # musl-gcc searches only musl's headers: give it BearSSL's, not the rest of /usr/include.
    cp /usr/include/bearssl.h "$d/musl-inc/" && cp -r /usr/include/bearssl "$d/musl-inc/" ||
        { NOTE="BearSSL headers not found (libbearssl-dev)"; return 1; }
    flags="$WARN -Os -static -isystem $d/musl-inc"   # system headers, as /usr/include is for glibc
    if ! run musl-gcc $flags examples/ossup.c -o "$exe" "$BEARSSL_A" -lpthread >"$d/link1.txt" 2>&1; then
        cat "$d/link1.txt"
        # Debian builds BearSSL with -D_FORTIFY_SOURCE=2, so its archive calls glibc's
        # checked copies (__memcpy_chk, ...), which musl does not have. They are only
        # bounds-checked memcpy/memmove/memset: supply them, with the same check.
        why=$(grep -o "undefined reference to \`[A-Za-z0-9_]*'" "$d/link1.txt" | sed "s/.*\`//; s/'//" | sort -u | tr '\n' ' ')
        if [ -z "$why" ] || printf '%s\n' $why | grep -qv '_chk$'; then
            NOTE="musl link failed: ${why:-see the output}"; return 1
        fi
        echo "libbearssl.a was built against glibc with _FORTIFY_SOURCE: it needs $why; linking a shim"
        shim=$d/fortify_shim.c
        cat >"$shim" <<'EOF'
/* glibc's _FORTIFY_SOURCE entry points that Debian's libbearssl.a calls, for musl:
   the copy, after the same bounds check (abort when the destination is too small). */
#include <stdlib.h>
#include <string.h>
void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len);
void *__memmove_chk(void *dst, const void *src, size_t n, size_t dst_len);
void *__memset_chk(void *dst, int c, size_t n, size_t dst_len);
void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len) {
    if (n > dst_len) abort();
    return memcpy(dst, src, n);
}
void *__memmove_chk(void *dst, const void *src, size_t n, size_t dst_len) {
    if (n > dst_len) abort();
    return memmove(dst, src, n);
}
void *__memset_chk(void *dst, int c, size_t n, size_t dst_len) {
    if (n > dst_len) abort();
    return memset(dst, c, n);
}
EOF
        run musl-gcc $flags examples/ossup.c "$shim" -o "$exe" "$BEARSSL_A" -lpthread ||
            { NOTE="musl link failed even with the _FORTIFY_SOURCE shim"; return 1; }
    fi
    run strip -o "$exe.stripped" "$exe" || { NOTE="strip failed"; return 1; }
    echo "file: $(file -b "$exe")"
    file -b "$exe" | grep -q 'statically linked' || { NOTE="not statically linked: $(file -b "$exe")"; return 1; }
    run "$exe" --version && "$exe.stripped" --help >"$d/help.txt" && head -n 2 "$d/help.txt" &&
        grep -q '^usage: ossup put' "$d/help.txt" || { NOTE="the binary does not run"; return 1; }
    # A real https:// upload: TLS handshake, certificate check against the test CA,
    # multipart with two workers, CRC-64 checked by the library against the server.
    head -c 3145728 /dev/urandom >"$d/upload.bin"
    OSS_ACCESS_KEY_ID=test-ak OSS_ACCESS_KEY_SECRET=test-secret \
        run timeout 300 python3 tests/with_server.py -- "$exe.stripped" put "$d/upload.bin" oss://bkt-matrix/musl.bin \
        --endpoint '{https}' --ca-file '{ca}' --threshold 1M --part-size 1M --threads 2 --checkpoint-dir '{work}' --quiet ||
        { NOTE="the static binary could not upload over https:// to the test server"; return 1; }
    u=$(bytes "$exe"); s=$(bytes "$exe.stripped")
    size_row "ossup, musl static -Os, with TLS (unstripped)" "" "" "" "$u"
    size_row "ossup, musl static -Os, with TLS (stripped)" "" "" "" "$s"
    NOTE="static ossup with TLS: $u bytes, $s stripped; runs; https:// upload to the test server OK"
    [ -n "$why" ] && NOTE="$NOTE (BearSSL's glibc-fortified archive needs ${why% }: shimmed)"
    return 0
}

# bigendian: s390x (64-bit) and PowerPC (32-bit) big-endian builds pass the unit tests
# under qemu. The checkpoint record is portable both ways: test_unit decodes the
# little-endian tests/checkpoint_le.bin there; the record they write is byte-identical
# to it, and the native (little-endian) test_unit decodes the big-endian one.
stage_bigendian() {
    local arch qemu sysroot exe ckpt n ok=0 notes="" native=$M/bigendian/native_test_unit
    fresh "$M/bigendian"
    run gcc $WARN -O2 -DOSSR_NO_TLS tests/test_unit.c -o "$native" -lpthread || { NOTE="native build failed"; return 1; }
    # the reader must really read the file it is given: a damaged record must fail
    head -c 40 tests/checkpoint_le.bin >"$M/bigendian/damaged.bin"
    if OSSR_READ_PORTABLE=$M/bigendian/damaged.bin "$native" tests >"$M/bigendian/damaged.out" 2>&1; then
        echo "OSSR_READ_PORTABLE is not honoured: a cut record passed"; NOTE="OSSR_READ_PORTABLE is not honoured"; return 1
    fi
    for arch in s390x powerpc; do
        case $arch in s390x) qemu=qemu-s390x ;; powerpc) qemu=qemu-ppc ;; esac
        sysroot=/usr/$arch-linux-gnu
        exe=$M/bigendian/test_unit-$arch
        ckpt=$M/checkpoint_$arch.bin
        rm -f "$ckpt"
        if ! run $arch-linux-gnu-gcc $WARN -O2 -DOSSR_NO_TLS tests/test_unit.c -o "$exe" -lpthread; then
            ok=1; notes="$notes $arch: build failed;"; continue
        fi
        echo "file: $(file -b "$exe")"
        if ! OSSR_WRITE_PORTABLE=$ckpt run_unit "bigendian-$arch" $qemu -L "$sysroot" "$exe" tests; then
            ok=1; notes="$notes $arch: test_unit failed;"; continue
        fi
        n=$UNIT_N
        if ! run cmp "$ckpt" tests/checkpoint_le.bin; then
            ok=1; notes="$notes $arch: its checkpoint differs from checkpoint_le.bin;"; continue
        fi
        if ! OSSR_READ_PORTABLE=$ckpt run_unit "bigendian-$arch-read" "$native" tests; then
            ok=1; notes="$notes $arch: x86-64 cannot decode its checkpoint;"; continue
        fi
        notes="$notes $arch: $n passed, checkpoint identical and read back on x86-64;"
    done
    NOTE=${notes# }; NOTE=${NOTE%;}
    return $ok
}

# windows: the unit tests built with mingw-w64 (posix threads variant, strict flags,
# -Werror) pass under wine.
stage_windows() {
    local exe=$M/windows/test_unit.exe wine_cmd
    fresh "$M/windows"
    if ! run x86_64-w64-mingw32-gcc-posix $WARN -O2 -static -DOSSR_NO_TLS tests/test_unit.c -o "$exe" \
            -lws2_32 >"$M/windows/build.txt" 2>&1; then
        cat "$M/windows/build.txt"
        NOTE="mingw-w64 build failed: $(grep -m 1 'error' "$M/windows/build.txt")"
        return 1
    fi
    cat "$M/windows/build.txt"
    echo "file: $(file -b "$exe")"
    wine_cmd=$(command -v wine || command -v wine64 || echo /usr/lib/wine/wine64)
    mkdir -p "$M/wine"
    # A private prefix (made on first use, which takes a while), no debug chatter, and no
    # offer to install Mono or Gecko.
    WINEPREFIX="$PWD/$M/wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" \
        run_unit windows timeout 900 "$wine_cmd" "$exe" tests || { NOTE="test_unit failed under wine"; return 1; }
    NOTE="mingw-w64, wine: test_unit $UNIT_N passed"
    grep -q 'large sparse file.*skipped' "$M/windows.out" && NOTE="$NOTE (the 5 GiB sparse file was skipped)"
    # The Win32 sockets, threads and files for real: ossup.exe uploads a file in 30 parts
    # with three threads to the test server, downloads it back, and the bytes compare.
    # The file names and the checkpoint directory are not ASCII (UTF-8 through the wide API).
    run x86_64-w64-mingw32-gcc-posix $WARN -O2 -static -DOSSR_NO_TLS examples/ossup.c -o "$M/windows/ossup.exe" \
        -lws2_32 -lshell32 || { NOTE="$NOTE; ossup.exe does not build"; return 1; }
    head -c 3000000 /dev/urandom >"$M/windows/données-测试.bin"
    cat >"$M/windows/roundtrip.sh" <<'SH'
#!/usr/bin/env bash
# roundtrip.sh ENDPOINT DIR: ossup.exe put, then get, under wine; the bytes must match.
set -e
export LC_ALL=C.UTF-8
ep=$1 d=$2
wine "$d/ossup.exe" put "$d/données-测试.bin" oss://bkt-win/dir/obj.bin --endpoint "$ep" --part-size 100K \
    --threshold 100K --threads 3 --checkpoint-dir "$d/检查点"
ls "$d/检查点" >/dev/null
rm -f "$d/返回-ü.bin"
wine "$d/ossup.exe" get oss://bkt-win/dir/obj.bin "$d/返回-ü.bin" --endpoint "$ep"
cmp "$d/données-测试.bin" "$d/返回-ü.bin"
SH
    if ! OSS_ACCESS_KEY_ID=test-ak OSS_ACCESS_KEY_SECRET=test-secret WINEPREFIX="$PWD/$M/wine" WINEDEBUG=-all \
            WINEDLLOVERRIDES="mscoree,mshtml=" timeout 300 python3 tests/with_server.py -- \
            bash "$M/windows/roundtrip.sh" {http} "$PWD/$M/windows"; then
        NOTE="$NOTE; ossup.exe's upload and download under wine failed"
        return 1
    fi
    NOTE="$NOTE; ossup.exe uploaded 3 MB in 30 parts over Winsock with 3 threads and read it back intact (UTF-8 names)"
    return 0
}

# baremetal: a Cortex-M4 with newlib and no operating system (no threads, sockets,
# stdio or TLS): the library compiles (sizes of the object alone), the hooks example
# (upload and download through the transport hook to the in-memory server of
# tests/mini_oss.h) links into a firmware image (sizes of the whole ELF). Where
# qemu-system-arm is installed, a CRC-64 probe, the hooks example and its full scenario
# (tests/test_hooks.c) run on an emulated Cortex-M4 (MPS2 AN386) with semihosting;
# running is reported, but only a program that runs and then fails fails the stage.
stage_baremetal() {
    local d=$M/baremetal t da b code notes="" ok=0
    fresh "$d"
    run arm-none-eabi-gcc $WARN $ARM_FLAGS $ARM_SWITCHES -c $LIB_TU -o "$d/lib.o" ||
        { NOTE="the library does not compile for Cortex-M4"; return 1; }
    read -r t da b <<<"$(berkeley arm-none-eabi-size "$d/lib.o")"
    run arm-none-eabi-size "$d/lib.o"
    # the code alone (the .text sections, without read-only data), as size.py reports it
    code=$(arm-none-eabi-size -A "$d/lib.o" | awk '$1 ~ /^\.text/ { n += $2 } END { print n + 0 }')
    size_row "library object, Cortex-M4 -Os (no threads/sockets/stdio/TLS)" "$t" "$da" "$b"
    size_row "  of which code (.text sections alone)" "$code"
    notes="library object text $t (code $code) data $da bss $b"

    # For the emulated board (MPS2 AN386): the program goes into its 16 MiB of PSRAM at
    # 0x21000000 (the hooks example keeps a 3 MiB image, the server's copies and an OTA
    # partition in RAM: about 12.5 MiB of bss), the vector table at 0: initial stack at
    # the top of PSRAM, a reset handler that switches the FPU on (hard-float code) and
    # enters newlib's _start, and fault handlers that end the emulation with status 99
    # instead of spinning.
    cat >"$d/vectors.c" <<'EOF'
/* Cortex-M vector table for the MPS2 AN386 board in qemu (semihosting). */
#include <unistd.h>
extern void _start(void);
void matrix_reset(void);
static void matrix_fault(void) {
    static const char msg[] = "cortex-m4: fault exception\n";
    (void)write(2, msg, sizeof msg - 1);
    _exit(99);
}
void matrix_reset(void) {
    *(volatile unsigned long *)0xE000ED88u |= 0xFul << 20;   /* CPACR: CP10, CP11 (FPU) on */
    __asm__ volatile ("dsb\n\tisb");
    _start();
}
void (*const matrix_vectors[16])(void) __attribute__((section(".vectors"))) = {
    (void (*)(void))0x22000000u, matrix_reset, matrix_fault, matrix_fault, matrix_fault,
    matrix_fault, matrix_fault, 0, 0, 0, 0, matrix_fault, matrix_fault, 0, matrix_fault, matrix_fault
};
EOF
    # The probe: the library's CRC-64 of "123456789" is the CRC-64/XZ check value.
    cat >"$d/probe.c" <<'EOF'
#include <stdio.h>
#include "../../../oss_resumable.h"
int main(void) {
    uint64_t c = ossr_crc64(0, "123456789", 9);
    printf("cortex-m4: crc64 %08lx%08lx, pointer %u bytes\n", (unsigned long)(c >> 32),
           (unsigned long)(c & 0xFFFFFFFFu), (unsigned)sizeof(void *));
    return c == 0x995DC9BBDF1939FAull ? 0 : 1;
}
EOF
    local rc qemu_ok=0 rdimon="--specs=nano.specs --specs=rdimon.specs $d/vectors.c -Wl,--section-start=.vectors=0
                            -Wl,--undefined=matrix_vectors -Wl,-Ttext-segment=0x21000000"
    if command -v qemu-system-arm >/dev/null; then
        run arm-none-eabi-gcc $WARN $ARM_FLAGS $ARM_SWITCHES "$d/probe.c" "$d/lib.o" $rdimon -Wl,--gc-sections -o "$d/probe.elf" ||
            { NOTE="the CRC-64 probe does not build for Cortex-M4"; return 1; }
        run timeout 120 qemu-system-arm -M mps2-an386 -cpu cortex-m4 -semihosting -nographic -monitor none -serial none \
            -kernel "$d/probe.elf" >"$d/probe.out" 2>&1
        rc=$?
        cat "$d/probe.out"
        if [ $rc = 0 ]; then
            qemu_ok=1; notes="$notes; CRC-64 probe runs on qemu mps2-an386"
        elif grep -q '^cortex-m4: crc64' "$d/probe.out"; then   # it ran, and computed the wrong CRC
            NOTE="the CRC-64 probe computes a wrong CRC on Cortex-M4 ($notes)"; return 1
        else
            notes="$notes; the emulator did not run the probe (exit $rc): nothing run"
        fi
    else
        notes="$notes; qemu-system-arm not installed: nothing run"
    fi

    run arm-none-eabi-gcc $WARN $ARM_FLAGS $ARM_SWITCHES examples/hooks.c \
        --specs=nano.specs --specs=nosys.specs -Wl,--gc-sections -o "$d/hooks.elf" ||
        { NOTE="examples/hooks.c does not build or link for Cortex-M4 ($notes)"; return 1; }
    read -r t da b <<<"$(berkeley arm-none-eabi-size "$d/hooks.elf")"
    size_row "hooks example, Cortex-M4 ELF (newlib nano, nosys; bss: RAM demo)" "$t" "$da" "$b" "$(bytes "$d/hooks.elf")"
    notes="$notes; hooks.elf text $t data $da bss $b"
    if [ $qemu_ok = 1 ]; then
        local src name
        for src in examples/hooks.c tests/test_hooks.c; do
            name=$(basename "$src" .c)
            if run arm-none-eabi-gcc $WARN $ARM_FLAGS $ARM_SWITCHES "$src" $rdimon -Wl,--gc-sections \
                    -o "$d/$name-qemu.elf" &&
               run timeout 120 qemu-system-arm -M mps2-an386 -cpu cortex-m4 -semihosting -nographic -monitor none \
                   -serial none -kernel "$d/$name-qemu.elf"; then
                notes="$notes; $name runs on qemu (exit 0)"
            else
                ok=1; notes="$notes; $name FAILED on qemu"
            fi
        done
    fi
    NOTE=${notes#; }
    return $ok
}

# ---------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------
ALL=(strict c++ static switches symbols m32 musl bigendian windows baremetal)
if [ $# -gt 0 ]; then SELECTED=("$@"); else SELECTED=("${ALL[@]}"); fi
for s in "${SELECTED[@]}"; do
    case " ${ALL[*]} " in *" $s "*) ;; *) echo "matrix: unknown stage '$s' (stages: ${ALL[*]})" >&2; exit 2 ;; esac
done

ensure_tools

PASSED=() FAILED=() T0=$(date +%s.%N)
for s in "${SELECTED[@]}"; do
    fn=stage_${s//+/x}
    NOTE=""
    t=$(date +%s.%N)
    $fn >"$LOGS/$s.log" 2>&1
    rc=$?
    dt=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%5.1f s", b - a }')
    if [ $rc = 0 ]; then
        printf 'ok   %-10s %s  %s\n' "$s" "$dt" "$NOTE"; PASSED+=("$s")
    else
        printf 'FAIL %-10s %s  %s\n' "$s" "$dt" "$NOTE"; FAILED+=("$s")
        lines=$(wc -l <"$LOGS/$s.log")
        tail -n 60 "$LOGS/$s.log" | sed 's/^/     | /'
        [ "$lines" -gt 60 ] && echo "     | (last 60 of $lines lines; all in $LOGS/$s.log)"
    fi
done

{
    echo "# Sizes measured by tests/matrix.sh (bytes). text/data/bss as the size tool reports them"
    echo "# (text includes read-only data); file: the file's size on disk."
    printf '%-66s %8s %8s %8s %10s\n' "what" "text" "data" "bss" "file"
    [ ${#SIZES[@]} -gt 0 ] && printf '%s\n' "${SIZES[@]}"
} >"$M/sizes.txt"
[ ${#SIZES[@]} -gt 0 ] && { echo; cat "$M/sizes.txt"; }

total=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
echo
if [ ${#FAILED[@]} -eq 0 ]; then
    echo "matrix: all ${#PASSED[@]} stages passed in ${total} s"
    exit 0
fi
echo "matrix: ${#PASSED[@]} of ${#SELECTED[@]} stages passed in ${total} s; failed: ${FAILED[*]}"
exit 1
