/* What every fuzz target here shares: the library's implementation (so private
   ossr__ functions are reachable), FUZZ_CHECK (a failed invariant aborts, which
   libFuzzer and the replayer both report), and the entry point's prototype. */
#ifndef OSSR_FUZZ_H
#define OSSR_FUZZ_H
#define OSS_RESUMABLE_IMPLEMENTATION
#include "../../oss_resumable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond) do { \
        if (!(cond)) { fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); abort(); } \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
