/* replay_main.c - runs a libFuzzer target over saved inputs, without libFuzzer.

   Link it with one fuzz_*.c when not building with -fsanitize=fuzzer:
       cc -std=c99 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
          tests/fuzz/fuzz_http.c tests/fuzz/replay_main.c -o build/fuzz/replay_http \
          -lbearssl -lpthread
       build/fuzz/replay_http tests/fuzz/corpus/fuzz_http
   Each argument is a file or a directory (its regular files, in name order, not
   recursive). Every input is read into an exact-size heap block and passed to
   LLVMFuzzerTestOneInput once. A failing check in the target aborts, as under libFuzzer.
   Prints "replay <name>: N inputs" (name: the program's base name) and exits 0, or 2 when
   an argument cannot be read or no input was found. */
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long g_inputs;

/* Reads path whole into a block of exactly its size (1 byte for an empty file, passed
   with size 0). 0 on success. */
static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (!f) { fprintf(stderr, "replay: cannot open %s\n", path); return -1; }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: cannot size %s\n", path);
        fclose(f);
        return -1;
    }
    buf = (unsigned char *)malloc(n ? (size_t)n : 1);
    if (!buf) { fprintf(stderr, "replay: out of memory for %s\n", path); fclose(f); return -1; }
    if (n && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    g_inputs++;
    return 0;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int run_dir(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t count = 0, cap = 0, i;
    int rc = 0;
    if (!d) { fprintf(stderr, "replay: cannot open directory %s\n", dir); return -1; }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (count == cap) {
            char **grown;
            cap = cap ? cap * 2 : 64;
            grown = (char **)realloc(names, cap * sizeof *names);
            if (!grown) { rc = -1; break; }
            names = grown;
        }
        names[count] = (char *)malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!names[count]) { rc = -1; break; }
        sprintf(names[count], "%s/%s", dir, e->d_name);
        count++;
    }
    closedir(d);
    if (count) qsort(names, count, sizeof *names, cmp_names);
    for (i = 0; i < count; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode) && run_file(names[i]) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    if (rc) fprintf(stderr, "replay: failed while reading %s\n", dir);
    return rc;
}

int main(int argc, char **argv) {
    const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;
    int i, rc = 0;
    name = name ? name + 1 : (argc > 0 ? argv[0] : "replay");
    for (i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) { fprintf(stderr, "replay: no such path %s\n", argv[i]); rc = 2; continue; }
        if (S_ISDIR(st.st_mode) ? run_dir(argv[i]) != 0 : run_file(argv[i]) != 0) rc = 2;
    }
    printf("replay %s: %ld inputs\n", name, g_inputs);
    if (g_inputs == 0) { fprintf(stderr, "replay %s: no inputs\n", name); rc = 2; }
    return rc;
}
