/* libFuzzer harness: the partition tables (src/volume.c: MBR with its
 * extended chain, GPT, the damaged-GPT diagnosis, the backup-GPT and
 * primary-MBR fallbacks), over the input as a raw disk image. Inputs that
 * look like another container (EWF, VMDK, VHD, ...) are passed by: those
 * are libewf's and libtsk's parsers, not kavtrace's. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kavtrace/image.h"
#include "kavtrace/volume.h"

static char dir[64], file[96];

static void cleanup(void)
{
    unlink(file);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    bool supported;
    size_t tail = len < 512 ? len : 512;
    if (len < 512 || kt_image_sniff(data, len, data + len - tail, tail, &supported) != NULL)
        return 0;
    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "/tmp/kt-fuzz-volume-XXXXXX");
        if (mkdtemp(dir) == NULL)
            abort();
        snprintf(file, sizeof file, "%s/disk.raw", dir);
        atexit(cleanup);
    }
    FILE *f = fopen(file, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        abort();
    kt_image *img = NULL;
    kt_error err = {0};
    if (kt_image_open(file, &img, &err) != KT_OK)
        return 0;
    kt_volume_list list = {0};
    if (kt_volumes_scan(img, &list, &err) == KT_OK) {
        if (list.count == 0 || list.count > KT_VOLUME_MAX)
            abort();
        for (size_t i = 0; i < list.count; i++)
            if (list.items[i].offset < 0 || list.items[i].length < 0)
                abort();
    }
    kt_volume_list_release(&list);
    kt_image_free(img);
    return 0;
}
