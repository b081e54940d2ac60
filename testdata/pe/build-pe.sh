#!/usr/bin/env bash
# build-pe.sh OUTDIR MKPE
#
# The test PE files, from nothing: the test certificates of certs.tsv
# (kt-mkpe cert: keys from fixed seeds, fixed serials and dates), each
# *.spec's PE (kt-mkpe pe), and for a spec with a `sign` line an
# Authenticode signature by osslsigncode with that certificate (and the CA
# in the bag), that digest and a fixed signing time (-st: osslsigncode 2.1 and later, Debian 12 has 2.5; newer releases also call it -time). Everything is
# byte-identical from build to build (check-pe.sh proves it).
#
# OUTDIR gets NAME (one per spec), certs/NAME.{key,crt} and certs/ca.crt
# (the root to verify the signatures with).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 OUTDIR MKPE" >&2
  exit 2
fi
out=$(realpath -m "$1") mkpe=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
export TZ=UTC LC_ALL=C

command -v osslsigncode >/dev/null || {
  echo "build-pe: osslsigncode is missing (scripts/deps installs it)" >&2
  exit 1
}

rm -rf "$out"
mkdir -p "$out/certs" "$out/work"

while IFS=$'\t' read -r name issuer serial from to seed dn; do
  [[ -z $name || $name == \#* ]] && continue
  if [[ $issuer == - ]]; then
    "$mkpe" cert "$dn" "$serial" "$from" "$to" "$seed" "$out/certs/$name.key" "$out/certs/$name.crt"
  else
    "$mkpe" cert "$dn" "$serial" "$from" "$to" "$seed" "$out/certs/$name.key" "$out/certs/$name.crt" \
      "$out/certs/$issuer.key" "$out/certs/$issuer.crt"
    cat "$out/certs/$name.crt" "$out/certs/$issuer.crt" > "$out/certs/$name.chain.pem"
  fi
done < "$here/certs.tsv"

for spec in "$here"/*.spec; do
  name=$(basename "$spec" .spec)
  sign=$(grep -P '^sign\t' "$spec" || true)
  if [[ -z $sign ]]; then
    "$mkpe" pe "$spec" "$out/$name"
    continue
  fi
  "$mkpe" pe "$spec" "$out/work/$name"
  IFS=$'\t' read -r _ cert digest when desc <<< "$sign"
  epoch=$(date -u -d "$when" +%s)
  osslsigncode sign -certs "$out/certs/$cert.chain.pem" -key "$out/certs/$cert.key" \
    -h "$digest" -n "$desc" -st "$epoch" -in "$out/work/$name" -out "$out/$name" > /dev/null
done
rm -rf "$out/work"
