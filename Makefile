# oss_resumable.h - build, test and demo.
#   make          build build/ossup (and build/ossup-mbedtls where mbedTLS is installed)
#   make test     unit tests (gcc and clang), the hooks example and its test, test-server self-test,
#                 end-to-end tests, TLS tests (BearSSL, and the mbedTLS transport: build/ossup-mbedtls)
#   make demo     a 64 MB resumable upload against a local test server, killed and resumed
#   make matrix   every target: strict C99/C++, switches, 32-bit, musl, big-endian, Windows, Cortex-M4
#   make clean
# Each target first installs what it uses and is missing (tests/deps.sh, apt-get).
CC      ?= cc
CLANG   ?= clang
PYTHON  ?= python3
WARN     = -std=c99 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wundef -Wcast-qual
OPT     ?= -O2 -g
LDLIBS   = -lbearssl -lpthread
B        = build

# What each target needs. tests/deps.sh installs what is missing with apt-get, or says
# exactly what to install and stops (cc: a C compiler that builds; bearssl: libbearssl-dev;
# asan: clang's sanitizer runtime).
DEPS       = CC='$(CC)' tests/deps.sh
DEPS_BUILD = cc bearssl
DEPS_DEMO  = cc $(PYTHON) bearssl
DEPS_TEST  = cc gcc clang asan g++ $(PYTHON) bearssl openssl valgrind faketime tmux

.PHONY: all test demo clean deps unit e2e tls tls-mbedtls mbedtls-if-present sanitize memcheck memcheck-mbedtls cpp
.PHONY: faults crash crashtest fuzz fuzz-replay
.PHONY: bench size matrix matrix-fast hooks loop get

all: $(B)/ossup mbedtls-if-present

$(B)/ossup: examples/ossup.c oss_resumable.h
	@$(DEPS) $(DEPS_BUILD)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) examples/ossup.c -o $@ $(LDLIBS)

# TLS by the platform: ossup without BearSSL (OSSR_NO_TLS), https:// carried by
# examples/mbedtls_transport.c (libmbedtls-dev). make builds it where mbedTLS is
# installed, and otherwise says how to get it and goes on.
MBEDTLS_LIBS = -lmbedtls -lmbedx509 -lmbedcrypto -lpthread
$(B)/ossup-mbedtls: examples/ossup.c examples/mbedtls_transport.c oss_resumable.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) -DOSSR_NO_TLS -DOSSUP_MBEDTLS examples/ossup.c -o $@ $(MBEDTLS_LIBS)

mbedtls-if-present:
	@if $(DEPS) --check mbedtls; then $(MAKE) --no-print-directory $(B)/ossup-mbedtls; \
	else echo "make: $(B)/ossup-mbedtls not built: it needs mbedTLS (apt-get install libmbedtls-dev)"; fi

$(B)/%/ossup: examples/ossup.c oss_resumable.h
	@mkdir -p $(@D)
	$* $(WARN) $(OPT) examples/ossup.c -o $@ $(LDLIBS)

$(B)/%/test_unit: tests/test_unit.c oss_resumable.h
	@mkdir -p $(@D)
	$* $(WARN) $(OPT) tests/test_unit.c -o $@ $(LDLIBS)

$(B)/%/test_api: tests/test_api.c tests/check.h oss_resumable.h
	@mkdir -p $(@D)
	$* $(WARN) $(OPT) tests/test_api.c -o $@ $(LDLIBS)

# The smallest build: OSSR_NO_THREADS and OSSR_NO_TLS (one worker, http:// only, no BearSSL).
$(B)/minimal/ossup: examples/ossup.c oss_resumable.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) -DOSSR_NO_THREADS -DOSSR_NO_TLS examples/ossup.c -o $@

$(B)/minimal/test_api: tests/test_api.c tests/check.h oss_resumable.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) -DOSSR_NO_THREADS -DOSSR_NO_TLS tests/test_api.c -o $@

# CRC-64 by the 128-byte flash table that builds without an OS use (no 16 KiB of RAM).
$(B)/small/test_unit: tests/test_unit.c oss_resumable.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) -DOSSR_CRC64_SMALL tests/test_unit.c -o $@ $(LDLIBS)

$(B)/%/test_anchors: tests/test_anchors.c tests/check.h oss_resumable.h
	@mkdir -p $(@D)
	$* $(WARN) $(OPT) tests/test_anchors.c -o $@ $(LDLIBS)

# ASan + UBSan builds of everything that runs the library.
SAN      = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all
$(B)/asan/test_unit: tests/test_unit.c oss_resumable.h
	@mkdir -p $(@D)
	$(CLANG) $(WARN) $(SAN) tests/test_unit.c -o $@ $(LDLIBS)
$(B)/asan/ossup: examples/ossup.c oss_resumable.h
	@mkdir -p $(@D)
	$(CLANG) $(WARN) $(SAN) examples/ossup.c -o $@ $(LDLIBS)
$(B)/asan/test_api: tests/test_api.c tests/check.h oss_resumable.h
	@mkdir -p $(@D)
	$(CLANG) $(WARN) $(SAN) tests/test_api.c -o $@ $(LDLIBS)
$(B)/asan/test_anchors: tests/test_anchors.c tests/check.h oss_resumable.h
	@mkdir -p $(@D)
	$(CLANG) $(WARN) $(SAN) tests/test_anchors.c -o $@ $(LDLIBS)

# The hooks example: an upload through in-memory file, checkpoint store, clock and pool
# hooks to the in-process OSS stand-in of tests/mini_oss.h, and the object's download
# through a sink hook into a RAM "OTA partition", each cut and resumed; and
# tests/test_hooks.c, which includes the example and checks its whole scenario. Each is
# built as it is, with the four NO_ switches (no threads, TLS, sockets or file system:
# nothing from the platform, no BearSSL), and with OSSR_NO_MALLOC too (every byte from
# one caller-given block).
HOOKS_MIN  = -DOSSR_NO_THREADS -DOSSR_NO_TLS -DOSSR_NO_SOCKETS -DOSSR_NO_STDIO
HOOKS_DEPS = examples/hooks.c tests/mini_oss.h oss_resumable.h
# The rules below name each program by its stem; HOOKS_SRC_<stem> is its source.
HOOKS_SRC_hooks      = examples/hooks.c
HOOKS_SRC_test_hooks = tests/test_hooks.c
HOOKS_EX   = $(B)/hooks/hooks $(B)/hooks/hooks-min $(B)/hooks/hooks-ws
HOOKS_TEST = $(B)/hooks/test_hooks $(B)/hooks/test_hooks-min $(B)/hooks/test_hooks-ws
$(HOOKS_TEST): tests/test_hooks.c

$(B)/hooks/hooks $(B)/hooks/test_hooks: $(B)/hooks/%: $(HOOKS_DEPS)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) $(HOOKS_SRC_$*) -o $@ $(LDLIBS)

$(B)/hooks/hooks-min $(B)/hooks/test_hooks-min: $(B)/hooks/%-min: $(HOOKS_DEPS)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) $(HOOKS_MIN) $(HOOKS_SRC_$*) -o $@

$(B)/hooks/hooks-ws $(B)/hooks/test_hooks-ws: $(B)/hooks/%-ws: $(HOOKS_DEPS)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) $(HOOKS_MIN) -DOSSR_NO_MALLOC $(HOOKS_SRC_$*) -o $@

hooks: $(HOOKS_EX) $(HOOKS_TEST)
	$(B)/hooks/hooks
	$(B)/hooks/hooks-min
	$(B)/hooks/hooks-ws
	$(B)/hooks/test_hooks
	$(B)/hooks/test_hooks-min
	$(B)/hooks/test_hooks-ws

# The event-loop example: a session of four connections driven by one thread's poll()
# loop (no threads), against the test server: uploads, four parts at once, resumes.
$(B)/loop/loop: examples/loop.c oss_resumable.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) -DOSSR_NO_THREADS examples/loop.c -o $@ -lbearssl

loop: $(B)/loop/loop
	$(PYTHON) tests/test_loop.py $(B)/loop/loop

# Everything make test uses (node and npm are optional: without them the ali-oss check
# is skipped).
deps:
	@$(DEPS) $(DEPS_TEST)
	@$(DEPS) mbedtls || echo "deps: mbedTLS could not be installed: make test skips the mbedTLS run of the TLS suite"

# The header must also compile as C++, and as a private (static) copy in two units.
cpp:
	@mkdir -p $(B)
	g++ -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -c examples/ossup.c -o $(B)/ossup-cpp.o
	$(CC) $(WARN) -c tests/static_tu.c -o $(B)/static_a.o
	$(CC) $(WARN) -DTU_MAIN -c tests/static_tu.c -o $(B)/static_b.o
	$(CC) $(B)/static_a.o $(B)/static_b.o -o $(B)/static_tu $(LDLIBS) && $(B)/static_tu

unit: $(B)/gcc/test_unit $(B)/clang/test_unit $(B)/asan/test_unit $(B)/small/test_unit
	$(B)/gcc/test_unit tests
	$(B)/clang/test_unit tests
	$(B)/asan/test_unit tests
	$(B)/small/test_unit tests

e2e: $(B)/gcc/ossup $(B)/clang/ossup $(B)/gcc/test_api $(B)/clang/test_api \
     $(B)/minimal/ossup $(B)/minimal/test_api
	$(PYTHON) tests/test_oss_server.py
	OSSR_TEST_API=$(B)/gcc/test_api $(PYTHON) tests/test_e2e.py $(B)/gcc/ossup
	OSSR_TEST_API=$(B)/clang/test_api OSSR_E2E_QUICK=1 $(PYTHON) tests/test_e2e.py $(B)/clang/ossup
	OSSR_TEST_API=$(B)/minimal/test_api OSSR_E2E_QUICK=1 $(PYTHON) tests/test_e2e.py $(B)/minimal/ossup
	$(PYTHON) tests/test_ossup.py $(B)/gcc/ossup
	$(PYTHON) tests/test_ossup.py $(B)/minimal/ossup

# Resumable downloads: ranges on four connections, a reset, a short body, a flipped
# bit, SIGKILLs, an object replaced between runs and during one; the build without
# threads too (its four connections share one thread).
get: $(B)/gcc/ossup $(B)/minimal/ossup
	$(PYTHON) tests/test_get.py $(B)/gcc/ossup
	$(PYTHON) tests/test_get.py $(B)/minimal/ossup

tls: $(B)/gcc/ossup $(B)/gcc/test_anchors
	OSSR_TEST_ANCHORS=$(B)/gcc/test_anchors $(PYTHON) tests/test_tls.py $(B)/gcc/ossup
	@if $(DEPS) --check mbedtls; then $(MAKE) --no-print-directory tls-mbedtls; \
	else echo "tls: the mbedTLS run skipped: mbedTLS is not installed (apt-get install libmbedtls-dev)"; fi

# The TLS suite again over TLS by the platform; the cases about BearSSL itself say they
# are skipped, and why.
tls-mbedtls: $(B)/ossup-mbedtls
	$(PYTHON) tests/test_tls.py $(B)/ossup-mbedtls

# Fuzz corpora replayed under ASan+UBSan (no libFuzzer needed), and real libFuzzer runs
# (clang) of FUZZ_RUNS executions per target.
FUZZ_RUNS ?= 10000000
fuzz-replay:
	tests/fuzz/run.sh replay $(B)

fuzz:
	tests/fuzz/run.sh fuzz $(B) $(FUZZ_RUNS)

# The fault matrix, and kill-and-resume loops (a short one here, a long one in crashtest;
# a shorter one of the build without threads, whose four connections share one thread).
faults: $(B)/gcc/ossup
	$(PYTHON) tests/test_faults.py $(B)/gcc/ossup

crash: $(B)/gcc/ossup $(B)/minimal/ossup
	$(PYTHON) tests/test_crash.py $(B)/gcc/ossup
	$(PYTHON) tests/test_crash.py $(B)/minimal/ossup --runs 1 --kills 3

crashtest: $(B)/gcc/ossup
	$(PYTHON) tests/test_crash.py $(B)/gcc/ossup --runs 20 --kills 8 --seconds 600

# The end-to-end suites again with ASan + UBSan builds. Reports go to files, so that one
# from a run that was meant to fail is not mistaken for the expected failure: any file fails.
SANLOG   = $(CURDIR)/$(B)/asan/report
sanitize: $(B)/asan/ossup $(B)/asan/test_api $(B)/asan/test_anchors
	@rm -f $(SANLOG).*
	ASAN_OPTIONS=log_path=$(SANLOG) UBSAN_OPTIONS=log_path=$(SANLOG):print_stacktrace=1 \
	  OSSR_TEST_API=$(B)/asan/test_api $(PYTHON) tests/test_e2e.py $(B)/asan/ossup
	ASAN_OPTIONS=log_path=$(SANLOG) UBSAN_OPTIONS=log_path=$(SANLOG):print_stacktrace=1 \
	  OSSR_TEST_ANCHORS=$(B)/asan/test_anchors $(PYTHON) tests/test_tls.py $(B)/asan/ossup
	ASAN_OPTIONS=log_path=$(SANLOG) UBSAN_OPTIONS=log_path=$(SANLOG):print_stacktrace=1 \
	  OSSR_FAULTS_NO_FAKETIME=1 $(PYTHON) tests/test_faults.py $(B)/asan/ossup
	ASAN_OPTIONS=log_path=$(SANLOG) UBSAN_OPTIONS=log_path=$(SANLOG):print_stacktrace=1 \
	  $(PYTHON) tests/test_ossup.py $(B)/asan/ossup
	ASAN_OPTIONS=log_path=$(SANLOG) UBSAN_OPTIONS=log_path=$(SANLOG):print_stacktrace=1 \
	  $(PYTHON) tests/test_get.py $(B)/asan/ossup
	@if ls $(SANLOG).* >/dev/null 2>&1; then cat $(SANLOG).*; echo "sanitize: reports above"; exit 1; \
	else echo "sanitize: no reports"; fi

# The API programs under valgrind, where it is installed.
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
memcheck: $(B)/gcc/test_api $(B)/gcc/test_anchors
	@if command -v valgrind >/dev/null; then \
	  $(PYTHON) tests/with_server.py -- $(VALGRIND) $(B)/gcc/test_api {http} {work} && \
	  $(PYTHON) tests/with_server.py -- $(VALGRIND) $(B)/gcc/test_anchors {https} {ca} {other} {work}; \
	else echo "memcheck: skipped: valgrind is not installed"; fi
	@if ! command -v valgrind >/dev/null; then :; elif $(DEPS) --check mbedtls; then \
	  $(MAKE) --no-print-directory memcheck-mbedtls; else echo "memcheck: mbedTLS is not installed: ossup-mbedtls skipped"; fi

# ossup over the mbedTLS transport: a 3-part upload on two connections at once, and a
# refused certificate (exit status 1, not valgrind's 99).
MEMCHECK_PUT = OSS_ACCESS_KEY_ID=test-ak OSS_ACCESS_KEY_SECRET=test-secret $(PYTHON) tests/with_server.py -- \
	$(VALGRIND) $(B)/ossup-mbedtls put oss_resumable.h oss://bkt-memcheck/h --endpoint {https} --checkpoint-dir {work} \
	--threshold 100K --part-size 100K --threads 2 --quiet
memcheck-mbedtls: $(B)/ossup-mbedtls
	$(MEMCHECK_PUT) --ca-file {ca}
	$(MEMCHECK_PUT) --ca-file {other}; test $$? = 1

test: deps
	$(MAKE) --no-print-directory unit cpp hooks matrix-fast fuzz-replay e2e get loop tls faults crash sanitize memcheck
	bash tests/ali_oss_check.sh
	$(PYTHON) tests/test_setup.py
	@echo "make test: all passed"

demo:
	@$(DEPS) $(DEPS_DEMO)
	@$(MAKE) --no-print-directory $(B)/ossup
	$(PYTHON) tests/demo.py $(B)/ossup

# Benchmarks (never part of make test). "make bench" writes BENCH.md: ossup put and get
# against a raw client, curl and ali-oss on a local OSS sink, memory, resume cost and code
# size; about 5 minutes, 20 at most (BENCH_QUICK=1 for a smoke run). "make size" prints the
# code size alone.
BENCH_B   = $(B)/bench
BENCH_BIN = $(B)/ossup $(BENCH_B)/sink $(BENCH_B)/raw $(BENCH_B)/bare $(BENCH_B)/iocount.so \
            $(BENCH_B)/meter

$(BENCH_B)/sink: tests/bench/sink.c tests/bench/fd_io.h oss_resumable.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) tests/bench/sink.c -o $@ $(LDLIBS)

$(BENCH_B)/raw: tests/bench/raw.c tests/bench/fd_io.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) tests/bench/raw.c -o $@ $(LDLIBS)

$(BENCH_B)/bare: tests/bench/bare.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) tests/bench/bare.c -o $@ $(LDLIBS)

$(BENCH_B)/iocount.so: tests/bench/iocount.c tests/preload.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) -shared -fPIC tests/bench/iocount.c -o $@ -ldl

# Static, so that its own RSS (folded into the measured command's ru_maxrss) stays tiny.
$(BENCH_B)/meter: tests/bench/meter.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) -static tests/bench/meter.c -o $@

bench:
	@$(DEPS) cc $(PYTHON) bearssl openssl
	@$(DEPS) curl || echo "bench: curl is missing: the curl row will be skipped"
	@$(DEPS) node npm || echo "bench: node/npm are missing: the ali-oss rows will be skipped"
	$(MAKE) --no-print-directory $(BENCH_BIN)
	$(PYTHON) tests/bench/bench.py --build $(B) --cc $(CC)

size:
	@$(DEPS) cc $(PYTHON) bearssl
	$(PYTHON) tests/bench/size.py --build $(B) --cc $(CC)
	$(PYTHON) tests/bench/stack.py --build $(B)

# The build matrix: gcc/clang strict C99, C++, two static units,
# all 32 switch combinations, exported symbols, i386 and big-endian s390x/PowerPC under
# qemu, a static musl ossup with TLS, mingw-w64 under wine, Cortex-M4 sizes (and a run in
# qemu-system-arm). Installs its tools with apt-get; builds only under build/matrix.
matrix:
	WARN='$(WARN)' bash tests/matrix.sh

# Its quick stages, which make test runs: every switch combination, the symbol table.
matrix-fast:
	WARN='$(WARN)' bash tests/matrix.sh switches symbols

clean:
	rm -rf $(B)
