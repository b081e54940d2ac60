#!/usr/bin/env bash
# Checks the test PEs of build-pe.sh with tools that share no code with
# kt-mkpe or kavtrace:
#   - builds them twice (two output directories) and requires every file,
#     PEs and certificates, to be byte-identical (sha256);
#   - objdump (binutils): the file format (pei-i386 / pei-x86-64), the
#     optional header magic, and the resource tree down to one RT_VERSION
#     (ID 0x10) leaf in the spec's language;
#   - osslsigncode verify against the test CA: a signed PE's signature
#     verifies (the image hash matches), its signer is the spec's
#     certificate (subject, serial) and its signing time the spec's; an
#     unsigned one has no signature;
#   - openssl (pkcs7 -print_certs on osslsigncode extract-signature's
#     output): the bag holds the signer and the CA;
#   - by hand (Python, from Microsoft's VS_VERSIONINFO layout): every
#     StringFileInfo string, in order, as the spec has it.
# Usage: testdata/pe/check-pe.sh MKPE      Exits non-zero on any mismatch.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 MKPE" >&2
  exit 2
fi
mkpe=$(realpath "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export TZ=UTC LC_ALL=C
for t in objdump osslsigncode openssl; do
  command -v "$t" >/dev/null || { echo "check-pe: $t is missing (scripts/deps)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

"$here/build-pe.sh" "$tmp/a" "$mkpe"
"$here/build-pe.sh" "$tmp/b" "$mkpe"
(cd "$tmp/a" && find . -type f | LC_ALL=C sort | xargs sha256sum) > "$tmp/a.sum"
(cd "$tmp/b" && find . -type f | LC_ALL=C sort | xargs sha256sum) > "$tmp/b.sum"
nfiles=$(wc -l < "$tmp/a.sum")
if cmp -s "$tmp/a.sum" "$tmp/b.sum"; then
  ok "two builds are byte-identical ($nfiles files)"
else
  bad "two builds differ:"; diff "$tmp/a.sum" "$tmp/b.sum" || true
fi
out=$tmp/a

# The certificate's DN as osslsigncode prints it: /C=../CN=.. (reversed RFC 4514).
slash_dn() { tr ',' '\n' <<< "$1" | tac | sed 's|^|/|' | tr -d '\n'; }
cert_field() { awk -F'\t' -v n="$1" -v f="$2" '$1 == n { print $f }' "$here/certs.tsv"; }

for spec in "$here"/*.spec; do
  name=$(basename "$spec" .spec)
  pe=$out/$name
  format=$(awk -F'\t' '$1 == "format" { print $2 }' "$spec")
  if [[ $format == pe32 ]]; then want_fmt=pei-i386 want_magic=010b; else want_fmt=pei-x86-64 want_magic=020b; fi
  dump=$(objdump -p "$pe")
  if grep -q "file format $want_fmt" <<< "$dump" && grep -Pq "^Magic\t+$want_magic" <<< "$dump"; then
    ok "$name: objdump reads a $want_fmt ($want_magic)"
  else
    bad "$name: objdump does not see a $want_fmt with magic $want_magic"
  fi
  if grep -qP '^string\t' "$spec"; then
    lang=$(awk -F'\t' '$1 == "language" { print $2 }' "$spec")
    if grep -q "Entry: ID: 0x000010, Value: 0x8" <<< "$dump" &&
      grep -qi "Entry: ID: 0x00$lang, Value: 0x0000" <<< "$dump" && grep -q "Leaf: Addr" <<< "$dump"; then
      ok "$name: objdump walks RT_VERSION to a leaf in language $lang"
    else
      bad "$name: objdump shows no RT_VERSION leaf in language $lang"
    fi
  fi

  # The version strings, by hand.
  if /usr/bin/python3 - "$spec" "$pe" <<'PY'; then ok "$name: every version string as the spec says"; else bad "$name: version strings"; fi
import struct, sys
spec, pe = sys.argv[1], open(sys.argv[2], "rb").read()
want = [tuple(l.rstrip("\n").split("\t")[1:3]) for l in open(spec, encoding="utf-8")
        if l.startswith("string\t")]
at = pe.find("VS_VERSION_INFO".encode("utf-16-le"))
if not want:
    sys.exit(0 if at < 0 else 1)
base = at - 6
def block(o):
    length, vlen, typ = struct.unpack_from("<HHH", pe, o)
    k = o + 6
    e = k
    while pe[e:e + 2] != b"\0\0":
        e += 2
    key = pe[k:e].decode("utf-16-le")
    v = (e + 2 + 3) & ~3
    return key, length, vlen, typ, v, o + length
def children(start, end):
    o = (start + 3) & ~3
    while o < end:
        b = block(o)
        yield b
        o = (b[5] + 3) & ~3
key, length, vlen, typ, v, end = block(base)
assert key == "VS_VERSION_INFO" and vlen == 52, key
assert struct.unpack_from("<I", pe, v)[0] == 0xFEEF04BD
got = []
for c in children(v + 52, end):
    if c[0] == "StringFileInfo":
        table = next(children(c[4], c[5]))
        for s in children(table[4], table[5]):
            value = pe[s[4]:s[4] + 2 * s[2]].decode("utf-16-le")
            assert value.endswith("\0"), s
            got.append((s[0], value[:-1]))
if got != want:
    print(got, want, file=sys.stderr)
    sys.exit(1)
PY

  sign=$(grep -P '^sign\t' "$spec" || true)
  verify=$(osslsigncode verify -CAfile "$out/certs/ca.crt" -in "$pe" 2>&1 || true)
  if [[ -z $sign ]]; then
    if grep -q "No signature found" <<< "$verify"; then ok "$name: unsigned"; else bad "$name: has a signature"; fi
    continue
  fi
  IFS=$'\t' read -r _ cert digest when _ <<< "$sign"
  subject=$(slash_dn "$(cert_field "$cert" 7)")
  serial=$(cert_field "$cert" 3 | tr a-f A-F)
  stamp=$(date -u -d "$when" '+%b %e %H:%M:%S %Y GMT')
  if grep -q "Signature verification: ok" <<< "$verify" && grep -qF "Subject: $subject" <<< "$verify" &&
    grep -qF "Serial : $serial" <<< "$verify" && grep -qF "Signing time: $stamp" <<< "$verify" &&
    grep -qi "Message digest algorithm  : $digest" <<< "$verify"; then
    ok "$name: osslsigncode verifies it: signer $subject, serial $serial, signed $stamp"
  else
    bad "$name: osslsigncode verify:"; echo "$verify" | sed 's/^/    /'
  fi
  osslsigncode extract-signature -in "$pe" -out "$tmp/$name.p7" > /dev/null
  certs=$(openssl pkcs7 -inform DER -in "$tmp/$name.p7" -print_certs -noout)
  if grep -q "subject=.*CN = $(cert_field "$cert" 7 | sed 's/^CN=//; s/,.*//')" <<< "$certs" &&
    grep -q "subject=O = kavtrace test data, CN = kavtrace test code-signing CA" <<< "$certs"; then
    ok "$name: openssl finds the signer and the CA in the PKCS#7 bag"
  else
    bad "$name: openssl pkcs7 -print_certs:"; echo "$certs" | sed 's/^/    /'
  fi
done

echo "check-pe: $passed passed, $failed failed"
((failed == 0))
