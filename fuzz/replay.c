/* main() for a libFuzzer harness built without libFuzzer: every file
 * named, and every file of every directory named (in name order), is fed
 * to LLVMFuzzerTestOneInput once. A harness that crashes or aborts fails
 * the run; the sanitizer build adds AddressSanitizer and UBSan to it. So
 * the seed corpora (fuzz/corpus/) and every input a fuzzer ever crashed
 * on stay tests under gcc in CI (ctest fuzz_replay). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feed one file; -1 when it cannot be read. */
static int feed(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *p = realloc(data, cap);
            if (p == NULL) {
                free(data);
                fclose(f);
                return -1;
            }
            data = p;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    int bad = ferror(f);
    fclose(f);
    if (!bad)
        LLVMFuzzerTestOneInput(data, len);
    free(data);
    return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    size_t inputs = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (feed(argv[i]) != 0) {
                fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
                return 1;
            }
            inputs++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (d == NULL) {
            fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
            return 1;
        }
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            char **p = realloc(names, (n + 1) * sizeof *names);
            if (p == NULL || (p[n] = strdup(de->d_name)) == NULL)
                abort();
            names = p;
            n++;
        }
        closedir(d);
        if (n)
            qsort(names, n, sizeof *names, name_cmp);
        for (size_t k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]);
            if (feed(path) != 0) {
                fprintf(stderr, "%s: cannot read %s\n", argv[0], path);
                return 1;
            }
            inputs++;
            free(names[k]);
        }
        free(names);
    }
    printf("%s: %zu inputs replayed\n", argv[0], inputs);
    return 0;
}
