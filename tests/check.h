/* The assert harness of the C programs under tests/ that drive the library end to end:
   CHECK(cond, printf-style message) counts a pass or prints the failure and goes on;
   CHECK_REPORT(name) prints the closing "name: N passed, M failed" line and gives the
   exit status. Include after <stdio.h>. */
#ifndef OSSR_TESTS_CHECK_H
#define OSSR_TESTS_CHECK_H

static int check_passed, check_failed;
#define CHECK(cond, ...) do { \
        if (cond) check_passed++; \
        else { check_failed++; printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
               printf(__VA_ARGS__); printf("\n"); } \
    } while (0)
#define CHECK_REPORT(name) \
    (printf("%s: %d passed, %d failed\n", (name), check_passed, check_failed), check_failed ? 1 : 0)

#endif
