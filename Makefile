# oss_resumable.h - build, test and demo.
#   make          build build/ossup
#   make test     unit tests (gcc and clang), test-server self-test, end-to-end tests
#   make demo     a 64 MB resumable upload against a local test server, killed and resumed
#   make clean
CC      ?= cc
CLANG   ?= clang
PYTHON  ?= python3
WARN     = -std=c99 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wundef -Wcast-qual
OPT     ?= -O2 -g
LDLIBS   = -lbearssl -lpthread
B        = build

.PHONY: all test demo clean deps unit e2e tls cpp

all: $(B)/ossup

$(B)/ossup: examples/ossup.c oss_resumable.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) examples/ossup.c -o $@ $(LDLIBS)

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

$(B)/%/test_anchors: tests/test_anchors.c tests/check.h oss_resumable.h
	@mkdir -p $(@D)
	$* $(WARN) $(OPT) tests/test_anchors.c -o $@ $(LDLIBS)

$(B)/asan/test_unit: tests/test_unit.c oss_resumable.h
	@mkdir -p $(@D)
	$(CLANG) $(WARN) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all tests/test_unit.c -o $@ $(LDLIBS)

deps:
	@tests/deps.sh cc gcc clang g++ $(PYTHON) bearssl openssl

# The header must also compile as C++, and as a private (static) copy in two units.
cpp:
	@mkdir -p $(B)
	g++ -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -c examples/ossup.c -o $(B)/ossup-cpp.o
	$(CC) $(WARN) -c tests/static_tu.c -o $(B)/static_a.o
	$(CC) $(WARN) -DTU_MAIN -c tests/static_tu.c -o $(B)/static_b.o
	$(CC) $(B)/static_a.o $(B)/static_b.o -o $(B)/static_tu $(LDLIBS) && $(B)/static_tu

unit: $(B)/gcc/test_unit $(B)/clang/test_unit $(B)/asan/test_unit
	$(B)/gcc/test_unit tests
	$(B)/clang/test_unit tests
	$(B)/asan/test_unit tests

e2e: $(B)/gcc/ossup $(B)/clang/ossup $(B)/gcc/test_api $(B)/clang/test_api \
     $(B)/minimal/ossup $(B)/minimal/test_api
	$(PYTHON) tests/test_oss_server.py
	OSSR_TEST_API=$(B)/gcc/test_api $(PYTHON) tests/test_e2e.py $(B)/gcc/ossup
	OSSR_TEST_API=$(B)/clang/test_api OSSR_E2E_QUICK=1 $(PYTHON) tests/test_e2e.py $(B)/clang/ossup
	OSSR_TEST_API=$(B)/minimal/test_api OSSR_E2E_QUICK=1 $(PYTHON) tests/test_e2e.py $(B)/minimal/ossup

tls: $(B)/gcc/ossup $(B)/gcc/test_anchors
	OSSR_TEST_ANCHORS=$(B)/gcc/test_anchors $(PYTHON) tests/test_tls.py $(B)/gcc/ossup

test: deps
	$(MAKE) --no-print-directory unit cpp e2e tls
	bash tests/ali_oss_check.sh
	@echo "make test: all passed"

demo: deps $(B)/ossup
	$(PYTHON) tests/demo.py $(B)/ossup

clean:
	rm -rf $(B)
