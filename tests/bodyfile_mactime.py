#!/usr/bin/env python3
"""timeline.body read by The Sleuth Kit's mactime, on every scenario.

For each scenario: kavtrace writes timeline.csv and timeline.body; mactime
(-b, -z UTC, ISO dates, comma-separated) reads the bodyfile. Every file
event of the CSV (a $SI/$FN or inode time of a file) must be in mactime's
output at its second, with its MACB letter, name and inode; and where the
image is one TSK reads (not a directory tree), `fls -m` of the same image
must give the file the same time in the same slot: the times are the
filesystem's, and the bodyfile merges with fls's."""
import csv
import os
import re
import subprocess
import sys
import tempfile
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(__file__))
from outputs_common import ENV, SCENARIOS, Failures, evidence, scan  # noqa: E402

# The file-time labels (src/collect/files_common.c) and their slots.
LABELS = {
    "created": "b", "modified": "m", "changed": "c", "accessed": "a",
    "$SI created": "b", "$SI modified": "m", "$SI MFT changed": "c", "$SI accessed": "a",
    "$FN created": "b", "$FN modified": "m", "$FN MFT changed": "c", "$FN accessed": "a",
    "parent folder $SI modified (a child was deleted)": "m",
    "parent directory modified (a child was deleted)": "m",
}
SLOTS = "amcb"  # bodyfile order: atime mtime ctime crtime


def file_events(csv_path):
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            src = re.sub(r" \(FAT local time.*$", "", row["time_source"])
            if src in LABELS and row["path"]:
                yield row, LABELS[src], row["time_source"].startswith("$FN")


def body_name(row, fn):
    name = "/" + row["path"].lstrip("/")
    if fn:
        name += " ($FILE_NAME)"
    if row["allocated"] == "false":
        name += " (deleted)"
    return name


def iso_second(iso):
    t = datetime.fromisoformat(iso.replace("Z", "+00:00")[:19] + "+00:00")
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def mactime(body):
    r = subprocess.run(["mactime", "-b", body, "-z", "UTC", "-d", "-y"], env=ENV,
                       capture_output=True, text=True, check=True)
    rows = {}
    date = None
    for rec in csv.reader(r.stdout.splitlines()[1:]):
        if len(rec) < 8:
            continue
        date = rec[0] or date
        rows.setdefault((date, rec[6], rec[7]), set()).update(c for c in rec[2] if c != ".")
    return rows


def fls_times(image):
    """(inode, $FILE_NAME or not) -> [[a, m, c, b] seconds], over every
    filesystem of the image. By inode, not name: fls names a link "NAME ->
    TARGET", and kavtrace may reach a file through a linked folder (/lib)."""
    offsets = []
    r = subprocess.run(["mmls", image], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        m = re.match(r"\s*\d+:\s+\d+:\d+\s+(\d+)\s+\d+\s+\d+\s+(.*)", line) or \
            re.match(r"\s*\d+:\s+\d+\s+(\d+)\s+\d+\s+\d+\s+(.*)", line)
        if m:
            offsets.append(int(m.group(1)))
    if r.returncode != 0 or not offsets:
        offsets = [0]
    times = {}
    for off in offsets:
        r = subprocess.run(["fls", "-m", "/", "-r", "-o", str(off), image], capture_output=True,
                           text=True, errors="replace")
        for line in r.stdout.splitlines():
            p = line.split("|")
            if len(p) == 11:
                key = (p[2].split("-")[0], "($FILE_NAME)" in p[1])
                times.setdefault(key, []).append([int(float(x)) for x in p[7:11]])
    return times


def main():
    fails = Failures()
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for set_, name, container in SCENARIOS:
            out = scan(set_, name, container, os.path.join(tmp, name), "csv,body")
            body = os.path.join(out, "timeline.body")
            events = list(file_events(os.path.join(out, "timeline.csv")))
            lines = open(body, encoding="utf-8").read().splitlines()
            fails.check(bool(events) == bool(lines),
                        f"{name}: {len(events)} file events, {len(lines)} bodyfile lines")
            seen = mactime(body)
            fls = fls_times(evidence(set_, name, container)) if container != "tree" else None
            for row, slot, fn in events:
                total += 1
                key = (iso_second(row["time"]), row["inode"], body_name(row, fn))
                fails.check(slot in seen.get(key, set()),
                            f"{name}: {row['id']} ({row['time_source']} {row['time']} "
                            f"{row['path']}) not in mactime's output as {key} '{slot}'")
                if fls is None or row["allocated"] == "false":
                    continue
                # The deleted apart (their inode may be taken again): the same
                # inode in fls's bodyfile has the same second in that slot.
                want = int(datetime.fromisoformat(row["time"].replace("Z", "+00:00")[:19] +
                                                  "+00:00").timestamp())
                got = [t[SLOTS.index(slot)] for t in fls.get((row["inode"], fn), [])]
                fails.check(want in got, f"{name}: {row['id']} {body_name(row, fn)}: kavtrace "
                            f"{slot}={want}, fls {got}")
    fails.check(total > 50, f"only {total} file events over the scenarios")
    print(f"{total} file events checked")
    fails.finish("bodyfile_mactime")


if __name__ == "__main__":
    main()
