#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kavtrace/keys.h"

static void wipe(void *p, size_t n)
{
    volatile uint8_t *b = p;
    while (n--)
        *b++ = 0;
}

static int add(kt_keys *keys, kt_key_kind kind, uint8_t *data, size_t len, kt_error *err)
{
    if (keys->count >= KT_KEYS_MAX) {
        wipe(data, len);
        free(data);
        return kt_error_set(err, KT_ELIMIT, "more than %d keys given", KT_KEYS_MAX);
    }
    kt_key *p = realloc(keys->items, (keys->count + 1) * sizeof *p);
    if (p == NULL) {
        wipe(data, len);
        free(data);
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    keys->items = p;
    keys->items[keys->count++] = (kt_key){.kind = kind, .data = data, .len = len};
    return KT_OK;
}

int kt_keys_add_password(kt_keys *keys, const char *password, kt_error *err)
{
    size_t len = strlen(password);
    if (len == 0)
        return kt_error_set(err, KT_EARG, "an empty password");
    uint8_t *data = malloc(len);
    if (data == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    memcpy(data, password, len);
    return add(keys, KT_KEY_PASSWORD, data, len, err);
}

bool kt_keys_recovery_text(const uint8_t *data, size_t len, char out[56])
{
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len != 55)
        return false;
    for (size_t g = 0; g < 8; g++) {
        unsigned long v = 0;
        for (size_t d = 0; d < 6; d++) {
            uint8_t c = data[g * 7 + d];
            if (c < '0' || c > '9')
                return false;
            v = v * 10 + (unsigned long)(c - '0');
        }
        if (v % 11 || v / 11 > 0xffff || (g < 7 && data[g * 7 + 6] != '-'))
            return false;
    }
    memcpy(out, data, 55);
    out[55] = '\0';
    return true;
}

int kt_keys_add_recovery(kt_keys *keys, const char *text, kt_error *err)
{
    char norm[56];
    if (!kt_keys_recovery_text((const uint8_t *)text, strlen(text), norm))
        return kt_error_set(err, KT_EARG,
                            "not a recovery password (48 digits in 8 groups of 6, separated by "
                            "dashes, each group a multiple of 11)");
    uint8_t *data = malloc(55);
    if (data == NULL)
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    memcpy(data, norm, 55);
    wipe(norm, sizeof norm);
    return add(keys, KT_KEY_RECOVERY, data, 55, err);
}

int kt_keys_add_file(kt_keys *keys, const char *path, kt_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return kt_error_set(err, KT_EIO, "key file '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return kt_error_set(err, KT_EARG, "key file '%s': not a regular file", path);
    }
    if (st.st_size <= 0 || st.st_size > KT_KEY_FILE_MAX) {
        fclose(f);
        return kt_error_set(err, KT_EARG, "key file '%s': %s", path,
                            st.st_size <= 0 ? "empty" : "larger than 8 MiB");
    }
    size_t len = (size_t)st.st_size;
    uint8_t *data = malloc(len);
    if (data == NULL) {
        fclose(f);
        return kt_error_set(err, KT_ENOMEM, "out of memory");
    }
    size_t got = fread(data, 1, len, f);
    fclose(f);
    if (got != len) {
        wipe(data, got);
        free(data);
        return kt_error_set(err, KT_EIO, "key file '%s': read %zu of %zu bytes", path, got, len);
    }
    return add(keys, KT_KEY_FILE, data, len, err);
}

void kt_keys_name(const kt_keys *keys, size_t i, char *out, size_t len)
{
    size_t n = 0;
    for (size_t k = 0; k <= i && k < keys->count; k++)
        n += keys->items[k].kind == keys->items[i].kind;
    static const char *const kinds[] = {
        [KT_KEY_PASSWORD] = "password",
        [KT_KEY_FILE] = "key file",
        [KT_KEY_RECOVERY] = "recovery password",
    };
    snprintf(out, len, "%s %zu", kinds[keys->items[i].kind], n);
}

void kt_keys_release(kt_keys *keys)
{
    if (keys == NULL)
        return;
    for (size_t i = 0; i < keys->count; i++) {
        wipe(keys->items[i].data, keys->items[i].len);
        free(keys->items[i].data);
    }
    free(keys->items);
    keys->items = NULL;
    keys->count = 0;
}
