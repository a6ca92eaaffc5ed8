/* replay_main.c — a main() for the fuzz targets without libFuzzer: feeds every file of the corpus
 * directories (sorted by name) and every file named on the command line to the target's
 * LLVMFuzzerTestOneInput, once each, in a buffer of exactly the file's size. This is how every
 * target runs as an ordinary test with gcc (ctest label "fuzz"); a broken invariant aborts.
 *
 * usage: fuzz_<target> PATH...     (a directory: its files; a file: that file) */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* optional, as in libFuzzer: set-up once before the first input */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Runs one file; 0 when it was run, -1 when it could not be read. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long size;

    if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "fuzz replay: cannot read %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    buf = malloc(size ? (size_t)size : 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "fuzz replay: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    /* the name first: if the input breaks an invariant, the output says which one it was */
    fprintf(stderr, "fuzz replay: %s (%ld bytes)\n", path, size);
    LLVMFuzzerTestOneInput(buf, (size_t)size); /* never NULL, as with libFuzzer */
    free(buf);
    return 0;
}

static int is_input(const struct dirent *e)
{
    return e->d_name[0] != '.'; /* no ., .., hidden files */
}

int main(int argc, char **argv)
{
    long runs = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "fuzz replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (run_file(argv[i]))
                return 1;
            runs++;
            continue;
        }
        struct dirent **list;
        int n = scandir(argv[i], &list, is_input, alphasort);
        if (n < 0) {
            fprintf(stderr, "fuzz replay: cannot list %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        int bad = 0;
        for (int j = 0; j < n; j++) {
            char path[4096];
            struct stat fst;
            snprintf(path, sizeof path, "%s/%s", argv[i], list[j]->d_name);
            if (!bad && stat(path, &fst) == 0 && S_ISREG(fst.st_mode)) {
                bad = run_file(path) != 0;
                runs++;
            }
            free(list[j]);
        }
        free(list);
        if (bad)
            return 1;
    }
    if (runs == 0) {
        fprintf(stderr, "fuzz replay: no inputs (an empty corpus proves nothing)\n");
        return 1;
    }
    fprintf(stderr, "fuzz replay: %ld input%s, every invariant held\n", runs, runs == 1 ? "" : "s");
    return 0;
}
