#!/usr/bin/env python3
"""campaign.py: scan every variant of the corruption campaign and judge it.

  campaign.py --bin KAVTRACE --campaign DIR --evidence DIR --xfail FILE
              [--jobs N] [--timeout SECONDS] [--results FILE] [--only REGEX]

DIR/manifest.tsv (testdata/build-campaign.py) lists the damaged variants
and the intact item each comes from. Each base is scanned once for its
event count; then each variant, JOBS at a time, with
`timeout SECONDS kavtrace scan -q -o OUT VARIANT`. A variant passes when:

- the scan ends by itself (no timeout) with exit status 0 (done, maybe with
  warnings) or 1 (the item could not be read, said on stderr), never a
  signal or any other status;
- stderr holds no AddressSanitizer, LeakSanitizer or UndefinedBehavior-
  Sanitizer report;
- with status 0, findings.json parses, its run.events equals the lines of
  timeline.jsonl, and if that is fewer than the base's events,
  findings.json `warnings` is not empty: events are never lost silently;
- every file of the variant has the same SHA-256 before and after the scan
  (evidence is never written; see digest()).

Variants whose silent loss waits on a known change are listed in the
expected-failure file (NAME<TAB>why); the list is strict: a listed variant
that no longer loses events silently fails, so the list shrinks with the
fix. Crashes, hangs, sanitizer reports and changed evidence are never
expected. The figures are printed at the end; --results writes one TSV line
per variant.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:")


_digests = {}
_digests_lock = threading.Lock()


def digest(path):
    """SHA-256 of a file's content, read by its data extents (SEEK_DATA /
    SEEK_HOLE: a sparse variant's holes are zeros by definition, so the
    offsets and lengths of the extents, hashed with their bytes, and the
    size say the same as the whole content). A file is read once per
    identity (device, inode, size, modification and change times): any
    write changes its change time, so an unchanged identity is unchanged
    content, and the EWF segments and split parts that many variants share
    (hard links to the evidence) are not read hundreds of times."""
    st = os.stat(path)
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    with _digests_lock:
        if key in _digests:
            return _digests[key]
    h = hashlib.sha256(f"size {st.st_size}\n".encode())
    with open(path, "rb") as f:
        fd, off = f.fileno(), 0
        while off < st.st_size:
            try:
                data = os.lseek(fd, off, os.SEEK_DATA)
            except OSError:
                break
            hole = os.lseek(fd, data, os.SEEK_HOLE)
            h.update(f"extent {data} {hole - data}\n".encode())
            f.seek(data)
            left = hole - data
            while left:
                chunk = f.read(min(left, 1 << 22))
                if not chunk:
                    break
                h.update(chunk)
                left -= len(chunk)
            off = hole
    with _digests_lock:
        _digests[key] = h.hexdigest()
    return _digests[key]


def file_hashes(folder):
    return {name: digest(os.path.join(folder, name)) for name in sorted(os.listdir(folder))}


def scan(args, item):
    """Scan one item; (status, stdout, stderr, findings or None, timeline lines, seconds)."""
    tmp = tempfile.mkdtemp(prefix="kt-campaign-")
    try:
        out = os.path.join(tmp, "out")
        start = time.monotonic()
        p = subprocess.run(["timeout", "-k", "5", str(args.timeout), args.bin, "scan", "-q", "-o", out, item],
                           capture_output=True, text=True, errors="replace")
        seconds = time.monotonic() - start
        findings, lines = None, None
        if p.returncode == 0 and os.path.exists(os.path.join(out, "findings.json")):
            with open(os.path.join(out, "findings.json")) as f:
                findings = json.load(f)
            with open(os.path.join(out, "timeline.jsonl")) as f:
                lines = sum(1 for _ in f)
        return p.returncode, p.stdout, p.stderr, findings, lines, seconds
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def judge(args, row, base_events, xfail):
    name, base, entry, region, damage = row
    folder = os.path.dirname(os.path.join(args.campaign, entry))
    before = file_hashes(folder)
    rc, _, err, findings, lines, seconds = scan(args, os.path.join(args.campaign, entry))
    after = file_hashes(folder)
    r = {"name": name, "region": region, "rc": rc, "events": "", "base": base_events[base],
         "warnings": "", "seconds": f"{seconds:.1f}", "problems": [], "status": ""}
    if before != after:
        changed = [k for k in before if before[k] != after.get(k)] + [k for k in after if k not in before]
        r["problems"].append(f"evidence changed by the scan: {', '.join(changed)}")
    if SANITIZER.search(err):
        r["problems"].append("sanitizer report:\n" + err[-4000:])
    if rc == 124 or rc == -9:
        r["problems"].append(f"hang: no end within {args.timeout} s")
    elif rc < 0:
        r["problems"].append(f"crash: killed by signal {-rc}\n" + err[-2000:])
    elif rc not in (0, 1):
        r["problems"].append(f"exit status {rc} (0 or 1 expected)\n" + err[-2000:])
    elif rc == 1:
        if not re.search(r"^kavtrace: ", err, re.M):
            r["problems"].append("exit status 1 without a message on stderr")
        r["status"] = "refused"
    elif findings is None:
        r["problems"].append("exit status 0 but no findings.json")
    else:
        events, warnings = findings["run"]["events"], len(findings["warnings"])
        r["events"], r["warnings"] = events, warnings
        if lines != events:
            r["problems"].append(f"findings.json says {events} events, timeline.jsonl has {lines}")
        if events < base_events[base]:
            r["status"] = "lost-warned" if warnings else "lost-silent"
        else:
            r["status"] = "kept-warned" if warnings else "kept"
    if r["status"] == "lost-silent" and name not in xfail:
        r["problems"].append(f"lost events silently: {events} events (intact: {base_events[base]}), no warning")
    if name in xfail and r["status"] != "lost-silent" and not r["problems"]:
        r["problems"].append(f"listed in {args.xfail} but no longer loses events silently ({r['status']}): "
                             "remove it from the list")
    if r["problems"]:
        r["problems"].insert(0, f"damage: {damage}")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--campaign", required=True)
    ap.add_argument("--evidence", required=True)
    ap.add_argument("--xfail", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--results")
    ap.add_argument("--only", help="only the variants whose name matches this regular expression")
    args = ap.parse_args()

    with open(os.path.join(args.campaign, "manifest.tsv")) as f:
        rows = [tuple(line.rstrip("\n").split("\t")) for line in f if not line.startswith("#")]
    assert all(len(r) == 5 for r in rows), "manifest.tsv: 5 fields per line"
    names = {r[0] for r in rows}
    xfail = {}
    with open(args.xfail) as f:
        for n, line in enumerate(f, 1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 2 or fields[0] not in names:
                sys.exit(f"{args.xfail}:{n}: NAME<TAB>why, NAME a variant of the manifest")
            xfail[fields[0]] = fields[1]
    if args.only:
        rows = [r for r in rows if re.search(args.only, r[0])]

    failures = []
    base_events = {}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs)
    bases = sorted({r[1] for r in rows})
    for base, (rc, _, err, findings, _, _) in zip(bases, pool.map(
            lambda b: scan(args, os.path.join(args.evidence, b)), bases)):
        if rc != 0 or findings is None or SANITIZER.search(err):
            failures.append(f"{base} (intact): exit status {rc}\n{err[-2000:]}")
            base_events[base] = 0
        else:
            base_events[base] = findings["run"]["events"]
    start = time.monotonic()
    results = list(pool.map(lambda r: judge(args, r, base_events, xfail), rows))
    wall = time.monotonic() - start

    for r in results:
        if r["problems"]:
            failures.append(f"{r['name']}: " + "\n  ".join(r["problems"]))
    if args.results:
        with open(args.results, "w") as f:
            f.write("# name\tregion\texit\tevents\tbase_events\twarnings\tstatus\tseconds\tproblems\n")
            for r in results:
                f.write("\t".join(str(r[k]) for k in ("name", "region", "rc", "events", "base", "warnings",
                                                       "status", "seconds"))
                        + "\t" + ("; ".join(p.splitlines()[0] for p in r["problems"][1:]) or "-") + "\n")

    count = {}
    for r in results:
        count[r["status"]] = count.get(r["status"], 0) + 1
    lost = count.get("lost-warned", 0) + count.get("lost-silent", 0) + count.get("refused", 0)
    print(f"campaign: {len(results)} variants of {len(bases)} bases in {wall:.0f} s ({args.jobs} at a time)")
    print(f"  kept every event: {count.get('kept', 0) + count.get('kept-warned', 0)}"
          f" ({count.get('kept-warned', 0)} with warnings)")
    print(f"  lost events: {lost}: refused with an error {count.get('refused', 0)},"
          f" warned {count.get('lost-warned', 0)}, silently {count.get('lost-silent', 0)}"
          f" (expected by {os.path.basename(args.xfail)}: "
          f"{sum(1 for r in results if r['name'] in xfail and r['status'] == 'lost-silent')})")
    print(f"  failures: {len(failures)}")
    for f in failures:
        print(f"FAIL {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
