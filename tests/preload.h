/* preload.h - what the LD_PRELOAD shims tests/diskfault.c, tests/recvcount.c and
   tests/bench/iocount.c share. A shim defines _GNU_SOURCE and PRELOAD_NAME (its name,
   for its messages) before it includes this; it is still built alone:

       cc -shared -fPIC tests/SHIM.c -o SHIM.so -ldl */
#ifndef PRELOAD_H
#define PRELOAD_H

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sets the function pointer at fnptr (of size bytes) to the definition of name that
   the shim wraps: dlsym's answer, without the object-to-function cast. */
static void next_symbol(const char *name, void *fnptr, size_t size) {
    void *sym = dlsym(RTLD_NEXT, name);
    if (!sym) {
        fprintf(stderr, "%s: no %s\n", PRELOAD_NAME, name);
        abort();
    }
    memcpy(fnptr, &sym, size);
}

/* Appends one line, formatted as printf does, to the file named by $variable; nothing
   when it is unset or empty. (Inline: a shim that reports nothing does not use it.) */
static inline void report_line(const char *variable, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static inline void report_line(const char *variable, const char *format, ...) {
    const char *path = getenv(variable);
    va_list ap;
    FILE *f;
    if (!path || !*path) return;
    f = fopen(path, "a");
    if (!f) return;
    va_start(ap, format);
    vfprintf(f, format, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

#endif
