/* Private: BitLocker volumes (bde.c), for crypt.c. */
#ifndef KT_BDE_H
#define KT_BDE_H

#include <stdbool.h>
#include <stdint.h>

#include "volume_impl.h"

/* Whether h, the first 512 bytes of the len bytes at off of timg, is a
 * BitLocker volume header ("-FVE-FS-" at 3). If so out gets the kind
 * "bitlocker", what `info` calls it (with the volume GUID, the encryption
 * method and the key protectors read from the first FVE metadata block)
 * and, for a volume libbde must not be given (not the Windows 7 and later
 * form, metadata that does not fit the volume, an unknown method), the
 * reason. */
bool kt_bde_detect(TSK_IMG_INFO *timg, int64_t off, int64_t len, const uint8_t *h,
                   kt_crypt_header *out);

/* Try each key on the BitLocker volume of len bytes at off of timg (whose
 * header kt_bde_detect accepted): a recovery password as one, a password
 * as a user password, a key file holding a recovery password as that, a
 * key file that is a .BEK file as the startup key it holds. A key is
 * tried only where the volume has a protector of its kind.
 * KT_OK: *plain is the decrypted volume, a libtsk image that owns the
 * libbde volume (tsk_img_close releases both; timg must outlive it), and
 * *which the key that unlocked it; KT_ENOTFOUND: no key unlocks it;
 * KT_EFORMAT: libbde refused the volume (why, which never holds a key);
 * KT_ENOMEM. */
int kt_bde_unlock(TSK_IMG_INFO *timg, int64_t off, int64_t len, const kt_keys *keys,
                  TSK_IMG_INFO **plain, size_t *which, char *why, size_t why_len);

#endif
