/* kavtrace: the keys given for encrypted volumes (--password, --key-file,
 * --recovery-password).
 *
 * Every key is tried on every encrypted volume (kavtrace/volume.h). A key
 * is a secret: nothing in kavtrace prints, logs or writes one; messages
 * name a key by its kind and position ("password 1", "key file 2",
 * "recovery password 1"), never
 * by its value. A key file is named by its path in messages, its contents
 * never.
 */
#ifndef KAVTRACE_KEYS_H
#define KAVTRACE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/error.h"

/* The largest key file read, as cryptsetup's default --keyfile-size limit. */
#define KT_KEY_FILE_MAX (8 * 1024 * 1024)
#define KT_KEYS_MAX 64

typedef enum kt_key_kind {
    KT_KEY_PASSWORD, /* a passphrase, as typed */
    KT_KEY_FILE,     /* a key file's bytes, as they are (cryptsetup --key-file) */
    KT_KEY_RECOVERY, /* a BitLocker recovery password: 48 digits, 8 groups with dashes */
} kt_key_kind;

typedef struct kt_key {
    kt_key_kind kind;
    uint8_t *data; /* owned; wiped when released */
    size_t len;
} kt_key;

typedef struct kt_keys {
    kt_key *items;
    size_t count;
} kt_keys;

/* Add a password (len bytes of data, copied). KT_ELIMIT past KT_KEYS_MAX,
 * KT_ENOMEM. */
int kt_keys_add_password(kt_keys *keys, const char *password, kt_error *err);

/* Add a BitLocker recovery password: 8 groups of 6 digits separated by
 * dashes, each group a multiple of 11 below 720896 (Windows's form). A
 * text not of that form is KT_EARG (the message never repeats it). */
int kt_keys_add_recovery(kt_keys *keys, const char *text, kt_error *err);

/* Whether the len bytes of data are a BitLocker recovery password (as
 * kt_keys_add_recovery takes it, a final newline allowed, as in a key
 * file): true with it, NUL-terminated, in out (55 bytes). */
bool kt_keys_recovery_text(const uint8_t *data, size_t len, char out[56]);

/* Add the contents of the key file at path (read whole, at most
 * KT_KEY_FILE_MAX bytes). An unreadable, empty or oversized file is an
 * error naming the path. */
int kt_keys_add_file(kt_keys *keys, const char *path, kt_error *err);

/* "password 2", "key file 1", "recovery password 1": how messages name key i (its position among
 * the keys of its kind, from 1). */
void kt_keys_name(const kt_keys *keys, size_t i, char *out, size_t len);

/* Wipe and free every key; keys is then empty. NULL is a no-op. */
void kt_keys_release(kt_keys *keys);

#endif
