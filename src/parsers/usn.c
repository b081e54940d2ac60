/* NTFS change journal records (USN_RECORD_V2/V3/V4), decoded from bytes
 * with bounds checks. Layouts (Microsoft's USN_RECORD_V2/V3/V4):
 *
 *   all    0 RecordLength u32, 4 MajorVersion u16, 6 MinorVersion u16
 *   V2     8 FileReferenceNumber u64, 16 ParentFileReferenceNumber u64,
 *         24 Usn, 32 TimeStamp, 40 Reason, 44 SourceInfo, 48 SecurityId,
 *         52 FileAttributes, 56 FileNameLength u16, 58 FileNameOffset u16,
 *         60 FileName
 *   V3     8 FileReferenceNumber 16 bytes, 24 ParentFileReferenceNumber 16,
 *         40 Usn, 48 TimeStamp, 56 Reason, 60 SourceInfo, 64 SecurityId,
 *         68 FileAttributes, 72 FileNameLength, 74 FileNameOffset, 76 FileName
 *   V4     a range record (which bytes of a file changed), no name */
#include <stdio.h>
#include <string.h>

#include "kavtrace/bytes.h"
#include "kavtrace/usn.h"

#define V2_HEADER 60
#define V3_HEADER 76
#define V4_HEADER 64

static kt_usn_status bad(size_t *off, const char **why, const char *reason)
{
    *off += 8;
    if (why)
        *why = reason;
    return KT_USN_BAD;
}

kt_usn_status kt_usn_next(const uint8_t *buf, size_t len, size_t *off, kt_usn_record *rec,
                          const char **why)
{
    size_t at = *off;
    uint32_t rlen = 0;
    if (!kt_rd_le32(buf, len, at, &rlen))
        return KT_USN_SHORT;
    if (rlen == 0) {
        /* an unused page tail: skip the zero run, 8 bytes at a time */
        size_t end = at;
        uint64_t v = 0;
        while (kt_rd_le64(buf, len, end, &v) && v == 0)
            end += 8;
        if (end == at) /* fewer than 8 bytes left, or a length of 0 before other bytes */
            return kt_rd_fits(len, at, 8) ? bad(off, why, "record length 0") : KT_USN_SHORT;
        *off = end;
        return KT_USN_ZERO;
    }
    uint16_t major = 0, minor = 0;
    if (!kt_rd_le16(buf, len, at + 4, &major) || !kt_rd_le16(buf, len, at + 6, &minor))
        return KT_USN_SHORT;
    if (rlen % 8 != 0 || rlen > KT_USN_RECORD_MAX)
        return bad(off, why, "record length not a multiple of 8 or too large");
    size_t header = major == 2 ? V2_HEADER : major == 3 ? V3_HEADER : major == 4 ? V4_HEADER : 0;
    if (header == 0)
        return bad(off, why, "unknown major version");
    if (rlen < header)
        return bad(off, why, "record shorter than its header");
    if (!kt_rd_fits(len, at, rlen))
        return KT_USN_SHORT;
    const uint8_t *r = buf + at;
    if (major == 4) {
        *off = at + rlen;
        return KT_USN_RANGE;
    }
    kt_usn_record x;
    memset(&x, 0, sizeof x);
    x.offset = at;
    x.length = rlen;
    x.major = major;
    x.minor = minor;
    size_t b = major == 2 ? 24 : 40; /* Usn */
    uint64_t usn = 0, ft = 0;
    uint16_t nlen = 0, noff = 0;
    kt_rd_le64(r, rlen, 8, &x.file_ref);
    kt_rd_le64(r, rlen, major == 2 ? 16 : 24, &x.parent_ref);
    kt_rd_le64(r, rlen, b, &usn);
    kt_rd_le64(r, rlen, b + 8, &ft);
    kt_rd_le32(r, rlen, b + 16, &x.reason);
    kt_rd_le32(r, rlen, b + 20, &x.source_info);
    kt_rd_le32(r, rlen, b + 28, &x.attributes);
    kt_rd_le16(r, rlen, b + 32, &nlen);
    kt_rd_le16(r, rlen, b + 34, &noff);
    if (major == 3) {
        /* NTFS's 128-bit ids hold the 64-bit reference in their low half */
        uint64_t hi = 0, phi = 0;
        kt_rd_le64(r, rlen, 16, &hi);
        kt_rd_le64(r, rlen, 32, &phi);
        if (hi != 0 || phi != 0)
            return bad(off, why, "128-bit file id (ReFS), not an NTFS reference");
    }
    if (usn > INT64_MAX)
        return bad(off, why, "negative USN");
    x.usn = (int64_t)usn;
    if (nlen == 0 || nlen % 2 != 0 || nlen > 255 * 2 || noff < header ||
        !kt_rd_fits(rlen, noff, nlen))
        return bad(off, why, "file name outside the record");
    x.time = kt_time_from_filetime(ft);
    if (x.time == KT_TIME_NONE)
        return bad(off, why, "time stamp out of range");
    kt_utf16le_to_utf8(r + noff, nlen / 2, x.name, sizeof x.name);
    *rec = x;
    *off = at + rlen;
    return KT_USN_RECORD;
}

static const struct reason_name {
    uint32_t bit;
    const char *name;
} reason_names[] = {
    {KT_USN_DATA_OVERWRITE, "DATA_OVERWRITE"},
    {KT_USN_DATA_EXTEND, "DATA_EXTEND"},
    {KT_USN_DATA_TRUNCATION, "DATA_TRUNCATION"},
    {KT_USN_NAMED_DATA_OVERWRITE, "NAMED_DATA_OVERWRITE"},
    {KT_USN_NAMED_DATA_EXTEND, "NAMED_DATA_EXTEND"},
    {KT_USN_NAMED_DATA_TRUNCATION, "NAMED_DATA_TRUNCATION"},
    {KT_USN_FILE_CREATE, "FILE_CREATE"},
    {KT_USN_FILE_DELETE, "FILE_DELETE"},
    {KT_USN_EA_CHANGE, "EA_CHANGE"},
    {KT_USN_SECURITY_CHANGE, "SECURITY_CHANGE"},
    {KT_USN_RENAME_OLD_NAME, "RENAME_OLD_NAME"},
    {KT_USN_RENAME_NEW_NAME, "RENAME_NEW_NAME"},
    {KT_USN_INDEXABLE_CHANGE, "INDEXABLE_CHANGE"},
    {KT_USN_BASIC_INFO_CHANGE, "BASIC_INFO_CHANGE"},
    {KT_USN_HARD_LINK_CHANGE, "HARD_LINK_CHANGE"},
    {KT_USN_COMPRESSION_CHANGE, "COMPRESSION_CHANGE"},
    {KT_USN_ENCRYPTION_CHANGE, "ENCRYPTION_CHANGE"},
    {KT_USN_OBJECT_ID_CHANGE, "OBJECT_ID_CHANGE"},
    {KT_USN_REPARSE_POINT_CHANGE, "REPARSE_POINT_CHANGE"},
    {KT_USN_STREAM_CHANGE, "STREAM_CHANGE"},
    {KT_USN_TRANSACTED_CHANGE, "TRANSACTED_CHANGE"},
    {KT_USN_INTEGRITY_CHANGE, "INTEGRITY_CHANGE"},
    {KT_USN_CLOSE, "CLOSE"},
};

void kt_usn_reason_names(uint32_t reason, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    uint32_t rest = reason;
    for (size_t i = 0; i < sizeof reason_names / sizeof reason_names[0]; i++) {
        if (!(reason & reason_names[i].bit))
            continue;
        rest &= ~reason_names[i].bit;
        int n = snprintf(out + o, len - o, "%s%s", o ? "|" : "", reason_names[i].name);
        if (n < 0 || (size_t)n >= len - o)
            return;
        o += (size_t)n;
    }
    if (rest)
        snprintf(out + o, len - o, "%s0x%x", o ? "|" : "", rest);
}
