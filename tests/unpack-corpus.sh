#!/usr/bin/env bash
# unpack-corpus.sh CORPUS OUT: decompress the corpus's packed images and
# hives into OUT (the corpus itself is read-only and never changed).
set -euo pipefail
corpus=$1 out=$2
mkdir -p "$out"
xz -dc "$corpus/dfir-orc/ntfs.vhd.xz" > "$out/ntfs.vhd"
xz -dc "$corpus/dfir-orc/Fat12.vhd.xz" > "$out/Fat12.vhd"
unzip -o -q "$corpus/velociraptor/test.vhdx.zip" -d "$out"
unzip -o -q "$corpus/velociraptor/ext4_tests.zip" -d "$out"
for f in "$corpus"/regipy/*.xz; do
  xz -dc "$f" > "$out/regipy-$(basename "${f%.xz}")"
done
