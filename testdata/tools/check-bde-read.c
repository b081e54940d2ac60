/* check-bde-read: unlock a BitLocker volume with libbde and write its
 * plaintext to stdout (build-bde.sh's independent read check).
 *
 *   check-bde-read -r RECOVERY_PASSWORD|-p PASSWORD|-k BEK_FILE VOLUME
 *
 * Exit 0 with the whole plaintext written; 1 when libbde cannot open it; 3
 * when it stays locked (a wrong key); 2 on a read error. */
#include <libbde.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    libbde_volume_t *v = NULL;
    libbde_error_t *e = NULL;
    if (argc != 4 || argv[1][0] != '-' || !strchr("rpk", argv[1][1]) || argv[1][2]) {
        fprintf(stderr, "usage: %s -r RECOVERY_PASSWORD|-p PASSWORD|-k BEK_FILE VOLUME\n", argv[0]);
        return 2;
    }
    const uint8_t *key = (const uint8_t *)argv[2];
    if (libbde_volume_initialize(&v, &e) != 1)
        return 1;
    int set = argv[1][1] == 'r'
                  ? libbde_volume_set_utf8_recovery_password(v, key, strlen(argv[2]), &e)
              : argv[1][1] == 'p' ? libbde_volume_set_utf8_password(v, key, strlen(argv[2]), &e)
                                  : libbde_volume_read_startup_key(v, argv[2], &e);
    if (set != 1) {
        libbde_error_backtrace_fprint(e, stderr);
        return 1;
    }
    /* 1: opened (and unlocked, unless is_locked says otherwise); 0: no key
     * given unlocks it; -1: not a volume libbde reads. */
    int opened = libbde_volume_open(v, argv[3], LIBBDE_OPEN_READ, &e);
    if (opened < 0) {
        libbde_error_backtrace_fprint(e, stderr);
        return 1;
    }
    if (opened == 0 || libbde_volume_is_locked(v, &e) != 0)
        return 3;
    size64_t size = 0;
    if (libbde_volume_get_size(v, &size, &e) != 1)
        return 2;
    static char buf[1 << 20];
    for (size64_t off = 0; off < size;) {
        ssize_t n = libbde_volume_read_buffer(v, buf, sizeof buf, &e);
        if (n <= 0 || fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
            return 2;
        off += (size64_t)n;
    }
    libbde_volume_close(v, NULL);
    libbde_volume_free(&v, NULL);
    return 0;
}
