#!/usr/bin/env python3
"""Two runs on the same evidence give the same outputs but for the run's
own fields, on every scenario and in every format; and run.json holds what
ran on what.

Each scenario is scanned twice into the same folder (the first result
moved aside), every format asked for (kes-active with --hash too). The
run's own values are the run id, its start and end and the bytes the
process read; each is replaced by a placeholder in both runs' files, which
must then be byte-identical. SQLite is compared as bytes too: its run
times are fixed-length text and 8-byte integers, replaced in place.
run.json and manifest.json list the outputs' sizes and digests: each must
be the file's own, and equal between runs for every file that is."""
import hashlib
import json
import os
import re
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from outputs_common import SCENARIOS, Failures, evidence, scan  # noqa: E402

FORMATS = os.environ.get("KT_ALL_FORMATS", "json,csv,jsonl,body,sqlite")


def run_values(folder):
    r = json.load(open(os.path.join(folder, "run.json"), encoding="utf-8"))
    f = json.load(open(os.path.join(folder, "findings.json"), encoding="utf-8"))
    return r, f["run"]["process_bytes_read"]


def ns(iso):
    from datetime import datetime
    base, _, frac = iso.rstrip("Z").partition(".")
    t = datetime.fromisoformat(base + "+00:00")
    return int(t.timestamp()) * 10**9 + int((frac + "000000000")[:9])


def normalise(data, run, process_read):
    """The run's own values replaced, in text and in SQLite's bytes."""
    subs = [(run["run_id"], "@RUNID@")]
    for key in ("started", "finished"):
        t = ns(run[key])
        iso = run[key]
        fixed = iso[:19] + ".%09dZ" % (t % 10**9)
        subs += [(fixed, "@" + key.upper() + "@"), (iso, "@" + key.upper() + "@")]
        data = data.replace(struct.pack(">q", t), b"@" + key[:6].encode() + b"@")
    for old, new in subs:
        data = data.replace(old.encode(), new.encode())
    data = re.sub(rb'("process_bytes_read": )\d+', rb"\1@BYTES@", data)
    data = re.sub(rb"(bytes read by the process )\d+", rb"\1@BYTES@", data)
    return data


def main():
    fails = Failures()
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for set_, name, container in SCENARIOS:
            extra = ["--hash"] if name == "kes-active" else []
            out = os.path.join(tmp, name)
            first = os.path.join(tmp, name + ".first")
            scan(set_, name, container, out, FORMATS, extra)
            shutil.move(out, first)
            scan(set_, name, container, out, FORMATS, extra)
            a_run, a_bytes = run_values(first)
            b_run, b_bytes = run_values(out)
            fails.check(a_run["run_id"] != b_run["run_id"], f"{name}: one run id for two runs")
            names = sorted(os.listdir(out))
            fails.check(names == sorted(os.listdir(first)), f"{name}: different files")
            differs = set()
            for fname in names:
                a = open(os.path.join(first, fname), "rb").read()
                b = open(os.path.join(out, fname), "rb").read()
                if a != b:
                    differs.add(fname)
                if fname in ("run.json", "manifest.json"):
                    continue
                checked += 1
                fails.check(normalise(a, a_run, a_bytes) == normalise(b, b_run, b_bytes),
                            f"{name}: {fname} differs between runs beyond the run's own fields")
            # The outputs' digests: each file's own; equal where the files are.
            for folder, run in ((first, a_run), (out, b_run)):
                m = json.load(open(os.path.join(folder, "manifest.json"), encoding="utf-8"))
                for lst, what in ((run["outputs"], "run.json"), (m["files"], "manifest.json")):
                    for o in lst:
                        data = open(os.path.join(folder, o["name"]), "rb").read()
                        fails.check(o["size"] == len(data) and
                                    o["sha256"] == hashlib.sha256(data).hexdigest(),
                                    f"{name}: {what}: {o['name']}: not the file's size and digest")
                listed = [o["name"] for o in run["outputs"]]
                want = [f for f in names if f not in ("run.json", "manifest.json")]
                fails.check(sorted(listed) == want, f"{name}: run.json lists {listed}, not {want}")
                fails.check([o["name"] for o in m["files"]][-1] == "run.json",
                            f"{name}: manifest.json's last file is not run.json")
            for o_a, o_b in zip(a_run["outputs"], b_run["outputs"]):
                if o_a["name"] not in differs:
                    fails.check(o_a == o_b, f"{name}: run.json: {o_a['name']} listed differently")
            a_cmp = {k: v for k, v in a_run.items() if k not in ("run_id", "started", "finished",
                                                                  "outputs")}
            b_cmp = {k: v for k, v in b_run.items() if k not in ("run_id", "started", "finished",
                                                                  "outputs")}
            fails.check(a_cmp == b_cmp, f"{name}: run.json's provenance differs between runs")
            # What run.json says of the evidence and the run.
            fails.check(b_run["command_line"][:2] == ["kavtrace", "scan"] and
                        b_run["command_line"][-1] == evidence(set_, name, container),
                        f"{name}: command line {b_run['command_line']}")
            defs = b_run["definitions"]["files"]
            adir = b_run["definitions"]["dir"]
            for d in defs:
                data = open(os.path.join(adir, d["file"]), "rb").read()
                fails.check(d["sha256"] == hashlib.sha256(data).hexdigest(),
                            f"{name}: definitions {d['file']}: wrong digest")
            fails.check(len(defs) >= 5, f"{name}: only {len(defs)} definition files")
            ev = b_run["evidence"]
            for f in ev["files"]:
                fails.check(f["size"] == os.path.getsize(f["path"]),
                            f"{name}: evidence file {f['path']}: wrong size")
                if extra:
                    data = open(f["path"], "rb").read()
                    fails.check(f["sha256"] == hashlib.sha256(data).hexdigest(),
                                f"{name}: evidence file {f['path']}: wrong digest")
                else:
                    fails.check(f["sha256"] is None, f"{name}: a digest without --hash")
            if container == "E01":
                fails.check(len(ev["files"]) >= 2, f"{name}: segments {ev['files']}")
            if extra:
                fails.check(ev["stored_hash_verification"] == "verified" and ev["stored_md5"] and
                            ev["sha256"], f"{name}: --hash: {ev}")
    fails.check(checked > 60, f"only {checked} files compared")
    print(f"{checked} output files compared")
    fails.finish("outputs_deterministic")


if __name__ == "__main__":
    main()
