/* kavtrace: records of the NTFS change journal ($Extend/$UsnJrnl:$J).
 *
 * The journal is a run of USN_RECORD_V2, V3 and V4 records, each 8-byte
 * aligned, with zeros where Windows left the rest of a page unused (and a
 * sparse head where the journal's oldest part was let go). kt_usn_next
 * decodes one record from a buffer, strictly within its bounds; it never
 * allocates, and the name it gives is copied into the record. */
#ifndef KAVTRACE_USN_H
#define KAVTRACE_USN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kavtrace/time.h"

/* Reason flags (USN_REASON_*). */
#define KT_USN_DATA_OVERWRITE 0x00000001u
#define KT_USN_DATA_EXTEND 0x00000002u
#define KT_USN_DATA_TRUNCATION 0x00000004u
#define KT_USN_NAMED_DATA_OVERWRITE 0x00000010u
#define KT_USN_NAMED_DATA_EXTEND 0x00000020u
#define KT_USN_NAMED_DATA_TRUNCATION 0x00000040u
#define KT_USN_FILE_CREATE 0x00000100u
#define KT_USN_FILE_DELETE 0x00000200u
#define KT_USN_EA_CHANGE 0x00000400u
#define KT_USN_SECURITY_CHANGE 0x00000800u
#define KT_USN_RENAME_OLD_NAME 0x00001000u
#define KT_USN_RENAME_NEW_NAME 0x00002000u
#define KT_USN_INDEXABLE_CHANGE 0x00004000u
#define KT_USN_BASIC_INFO_CHANGE 0x00008000u
#define KT_USN_HARD_LINK_CHANGE 0x00010000u
#define KT_USN_COMPRESSION_CHANGE 0x00020000u
#define KT_USN_ENCRYPTION_CHANGE 0x00040000u
#define KT_USN_OBJECT_ID_CHANGE 0x00080000u
#define KT_USN_REPARSE_POINT_CHANGE 0x00100000u
#define KT_USN_STREAM_CHANGE 0x00200000u
#define KT_USN_TRANSACTED_CHANGE 0x00400000u
#define KT_USN_INTEGRITY_CHANGE 0x00800000u
#define KT_USN_CLOSE 0x80000000u

/* FILE_ATTRIBUTE_DIRECTORY in a record's attributes. */
#define KT_USN_ATTR_DIRECTORY 0x10u

/* Limits: a record is at most KT_USN_RECORD_MAX bytes (a 255-character
 * name needs 586 with V3's header), its name at most 255 UTF-16 units. */
#define KT_USN_RECORD_MAX 1024
#define KT_USN_NAME_MAX (255 * 3 + 1)

/* An NTFS file reference: MFT entry (48 bits) and sequence number. */
#define KT_USN_REF_ENTRY(r) ((r)&0xffffffffffffull)
#define KT_USN_REF_SEQ(r) ((uint16_t)((r) >> 48))

typedef struct kt_usn_record {
    size_t offset; /* in the buffer given */
    uint32_t length;
    uint16_t major, minor;
    uint64_t file_ref, parent_ref; /* V3: the low 64 bits of the 128-bit ids */
    int64_t usn;
    kt_time time; /* TimeStamp, FILETIME as ns since 1970 UTC */
    uint32_t reason, source_info, attributes;
    char name[KT_USN_NAME_MAX]; /* UTF-8 */
} kt_usn_record;

typedef enum kt_usn_status {
    KT_USN_RECORD, /* *rec holds a V2 or V3 record; *off is past it */
    KT_USN_RANGE,  /* a V4 range record (no name): skipped, *off is past it */
    KT_USN_ZERO,   /* zeros (unused page tail): *off is past the zero run */
    KT_USN_BAD,    /* not a record: *off is 8 bytes further (bad_reason says why) */
    KT_USN_SHORT,  /* a record that runs past len: read more from *off */
} kt_usn_status;

/* Decode the record at *off of buf[0..len) (*off 8-byte aligned).
 * bad_reason (may be NULL) gets a static string for KT_USN_BAD. */
kt_usn_status kt_usn_next(const uint8_t *buf, size_t len, size_t *off, kt_usn_record *rec,
                          const char **bad_reason);

/* The reason flags as names joined by '|' ("FILE_CREATE|CLOSE"); unknown
 * bits as a hex number. */
void kt_usn_reason_names(uint32_t reason, char *out, size_t len);

#endif
