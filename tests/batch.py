#!/usr/bin/env python3
"""batch.py: `kavtrace batch` judged from outside, one test per name.

  batch.py TEST    (KT_BIN and KT_EVIDENCE_DIR from the environment)

  scenarios  every scenario image, discovered, -j 2: one case row per item,
             its verdicts, hostnames and products those of a plain scan of
             the same image; case.csv is RFC 4180 and equals case.json
  faults     a crash, a hang (timeout), running out of memory (the
             test-only fault switch) and a broken image each cost their
             own item only, recorded with the reason; the others complete;
             exit status 1
  resume     a batch stopped by SIGTERM mid-run keeps every finished item;
             the rerun scans only the rest, and every item ends complete
             exactly once (no partial or mixed folder at an item's name);
             an evidence file touched is scanned again, --force redoes all
  inputs     a CSV manifest (ids, custodian, key file, notes), a list
             manifest, and discovery (a split raw set and an EWF set once
             each, a system root folder as one item)
  case       a batch over several scenarios with html and sqlite (a CSV
             manifest, one broken image): headless chromium opens
             index.html (one row per item, verdicts, products and state at
             the cutoff as case.json, links to existing report.html files,
             text escaped, no request but the page, no script error, fits a
             narrow screen; a screenshot kept); the sqlite3 shell on
             case.sqlite (views per item as each item's findings.json);
             a second batch gives the same index.html and case.sqlite but
             for the items' run fields; --summarize rebuilds them the same;
             a rerun asking for sqlite rescans items written without it
  slurm      --slurm --dry-run's script; then a real single-node Slurm
             (scripts/slurm-local) runs the batch as a job array and a
             dependent summary job, whose case summary equals the local
             -j 2 run's, its index.html and case.sqlite too. Skipped (exit 77, reason printed) only when the
             daemons cannot start.
"""

import base64
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = os.environ["KT_BIN"]
EVIDENCE = os.environ["KT_EVIDENCE_DIR"]
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERDICTS = [
    "kaspersky_ever_installed",
    "kaspersky_present_at_acquisition",
    "installed_after_sales_ban",
    "signature_update_after_cutoff",
    "codebase_update_after_cutoff",
    "ksn_after_cutoff",
    "removed_before_cutoff",
    "migrated_to_ultraav",
    "kaspersky_code_in_other_products",
]

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def run(args, **kw):
    return subprocess.run([BIN] + args, capture_output=True, text=True, **kw)


def case(outdir):
    with open(os.path.join(outdir, "case.json")) as f:
        cj = json.load(f)
    with open(os.path.join(outdir, "case.csv"), newline="") as f:
        raw = f.read()
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    return cj, rows, raw


def by_id(cj):
    return {it["id"]: it for it in cj["items"]}


def scenario_images(formats=(".E01", ".tree")):
    """Every scenario once (its EWF set, or the folder of a macOS one)."""
    out = []
    for sub in ("scenarios", "scenarios-unix"):
        d = os.path.join(EVIDENCE, sub)
        out += [os.path.join(d, n) for n in sorted(os.listdir(d)) if n.endswith(formats)]
    return out


def test_scenarios(tmp):
    images = scenario_images()
    check(len(images) >= 8, f"at least 8 scenario images, found {len(images)}")
    # Discovery: every format of every scenario, each EWF set once.
    out = os.path.join(tmp, "found")
    r = run(["batch", "--slurm", "--dry-run", "-o", out,
             "-d", os.path.join(EVIDENCE, "scenarios"), "-d", os.path.join(EVIDENCE, "scenarios-unix")])
    every = scenario_images((".E01", ".raw", ".vhd", ".vmdk", ".tree"))
    check(r.returncode == 0 and f"--array=0-{len(every) - 1}%" in r.stdout,
          f"discovered {len(every)} items: {r.stdout[:300]} {r.stderr}")
    out = os.path.join(tmp, "out")
    r = run(["batch", "-q", "-j", "2", "-o", out] + images)
    check(r.returncode == 0, f"batch exit status {r.returncode}: {r.stderr}")
    cj, rows, raw = case(out)
    items = by_id(cj)
    check(len(rows) == len(images) == len(cj["items"]),
          f"one row per item: {len(rows)} rows, {len(cj['items'])} items, {len(images)} images")
    check([r["id"] for r in rows] == sorted(r["id"] for r in rows), "rows sorted by id")
    check(raw.count("\r\n") == len(rows) + 1 and "\n" not in raw.replace("\r\n", ""),
          "case.csv lines end with CRLF (RFC 4180)")
    check(cj["totals"]["ok"] == len(images), f"every item ok: {cj['totals']}")
    # The same images scanned one by one, the plain way.
    single = os.path.join(tmp, "single")
    r = run(["scan", "-q", "-o", single] + images)
    check(r.returncode == 0, f"single scans: {r.stderr}")
    for img in images:
        name = os.path.basename(img)
        it = items.get(name)
        row = next((x for x in rows if x["id"] == name), None)
        check(it is not None and row is not None, f"{name} has a row")
        if it is None or row is None:
            continue
        check(it["evidence"] == os.path.realpath(img), f"{name}: evidence path")
        with open(os.path.join(single, name, "findings.json")) as f:
            fj = json.load(f)
        systems = fj["systems"]
        check(len(it["systems"]) == len(systems) and row["systems"] == str(len(systems)),
              f"{name}: systems")
        for v in VERDICTS:
            want = [s["verdicts"].get(v) for s in systems]
            got = [s["verdicts"][v] for s in it["systems"]]
            check(got == want, f"{name}: {v}: case {got}, scan {want}")
            text = ";".join("null" if x is None else str(x).lower() for x in want)
            check(row[v] == text.replace(";", "; "), f"{name}: csv {v}: {row[v]!r} vs {text!r}")
        hosts = "; ".join(s.get("hostname", "") for s in systems)
        check(row["hostnames"] == hosts, f"{name}: hostnames {row['hostnames']!r} vs {hosts!r}")
        prods = "; ".join((p["name"] + (" " + p["version"] if p.get("version") else ""))
                          for s in systems for p in s["products"])
        check(row["products"] == prods, f"{name}: products {row['products']!r} vs {prods!r}")
        sigs = "; ".join(p["last_signature_update"] or "none" for s in systems for p in s["products"])
        check(row["last_signature_update"] == sigs, f"{name}: signature updates")
        check(row["warnings"] == str(len(fj["warnings"])), f"{name}: warnings count")
        has_state = any("state_at" in s for s in systems)
        check(has_state or row["state_at_cutoff"] == "", f"{name}: no state_at, empty column")
        check(row["status"] == "ok" and float(row["run_time_s"]) > 0, f"{name}: ok with a run time")
        with open(os.path.join(out, name, "manifest.json")) as f:
            man = json.load(f)
        check(man["definitions_sha256"] and man["evidence"]["files"] >= 1,
              f"{name}: manifest stamps evidence and definitions")


def pick(n):
    images = scenario_images()
    return images[:n]


def test_faults(tmp):
    good = pick(4)
    broken = os.path.join(tmp, "broken.E01")
    with open(broken, "wb") as f:
        f.write(b"EVF\x09\x0d\x0a\xff\x00" + b"\x00" * 4096)  # an EWF signature, nothing behind
    ids = [os.path.basename(p) for p in good]
    out = os.path.join(tmp, "out")
    # A sanitizer build has no address-space limit (its shadow memory needs
    # terabytes of it): there the out-of-memory item is left out, said so.
    sanitized = "(default 0;" in run(["batch", "--help"]).stdout
    # The timeout cuts the hang; the healthy items need far less, even on a
    # loaded machine.
    limits = ["--item-timeout", "40"] + ([] if sanitized else ["--item-memory", "512"])
    faults = ["--test-fault", ids[0] + "=crash", "--test-fault", ids[1] + "=hang"]
    if sanitized:
        print("note: sanitizer build, no memory limit: the out-of-memory item is not run", flush=True)
        good = good[:2] + good[3:]
    else:
        faults += ["--test-fault", ids[2] + "=oom"]
    t0 = time.monotonic()
    r = run(["batch", "-q", "-j", "2", "-o", out] + limits + faults + good + [broken], timeout=300)
    took = time.monotonic() - t0
    check(r.returncode == 1, f"exit status 1 when items fail, got {r.returncode}: {r.stderr}")
    check(took < 200, f"the hang is cut by the item timeout ({took:.0f} s)")
    cj, rows, _ = case(out)
    items = by_id(cj)
    st = {k: (v["status"], v["message"] or "") for k, v in items.items()}
    check(st[ids[0]][0] == "failed" and "signal 11" in st[ids[0]][1], f"crash recorded: {st[ids[0]]}")
    check(st[ids[1]][0] == "timed-out" and "timeout" in st[ids[1]][1], f"hang recorded: {st[ids[1]]}")
    if not sanitized:
        check(st[ids[2]][0] == "failed" and "out of memory" in st[ids[2]][1], f"oom recorded: {st[ids[2]]}")
    check(st["broken.E01"][0] == "failed" and st["broken.E01"][1], f"broken image recorded: {st['broken.E01']}")
    check(st[ids[3]][0] == "ok", f"the healthy item completes: {st[ids[3]]}")
    check(os.path.exists(os.path.join(out, ids[3], "manifest.json")), "its outputs are complete")
    for i in ids[:2] + ([] if sanitized else ids[2:3]):
        check(not os.path.exists(os.path.join(out, i)), f"{i}: no folder at its name")
        check(items[i]["systems"] is None, f"{i}: no systems claimed")
    check(cj["totals"]["failed"] == (2 if sanitized else 3) and cj["totals"]["timed-out"] == 1,
          f"totals {cj['totals']}")
    # No process of the hung item left behind.
    ps = subprocess.run(["pgrep", "-f", out], capture_output=True, text=True)
    check(ps.stdout.strip() == "", f"no worker left running: {ps.stdout}")


def folder_state(out, ids):
    """Every item complete exactly once: its folder with a manifest whose
    files are all there with their sizes and hashes, nothing else at its name."""
    import hashlib
    for i in ids:
        d = os.path.join(out, i)
        man = json.load(open(os.path.join(d, "manifest.json")))
        listed = {f["name"] for f in man["files"]} | {"manifest.json"}
        check(set(os.listdir(d)) == listed, f"{i}: folder holds exactly its manifest's files")
        for f in man["files"]:
            data = open(os.path.join(d, f["name"]), "rb").read()
            check(hashlib.sha256(data).hexdigest() == f["sha256"], f"{i}: {f['name']} is its run's")
        fj = json.load(open(os.path.join(d, "findings.json")))
        check(fj["run_id"] == man["run_id"], f"{i}: findings and manifest of one run")


def test_resume(tmp):
    images = pick(6)
    ids = [os.path.basename(p) for p in images]
    out = os.path.join(tmp, "out")
    status = os.path.join(out, ".kavtrace-batch", "status")
    p = subprocess.Popen([BIN, "batch", "-q", "-j", "2", "-o", out] + images,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        done = [n for n in os.listdir(status)] if os.path.isdir(status) else []
        if len(done) >= 2:
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    check(p.returncode == 1, f"an interrupted batch exits 1, got {p.returncode}")
    check("stopping" in err, f"it says it stops: {err!r}")
    first = {n: open(os.path.join(status, n)).read().split("\t")[0] for n in os.listdir(status)}
    check(0 < len(first) < len(ids), f"interrupted mid-run: {len(first)} of {len(ids)} finished")
    cj, _, _ = case(out)
    check(cj["totals"]["not-run"] == len(ids) - len(first), f"the rest not run: {cj['totals']}")
    kept = {i for i, s in first.items() if s == "ok"}
    for i in kept:
        check(os.path.exists(os.path.join(out, i, "manifest.json")), f"{i}: finished item kept")
    # The rerun: the finished ones skipped, the rest scanned.
    r = run(["batch", "-q", "-j", "2", "-o", out] + images)
    check(r.returncode == 0, f"rerun exit status {r.returncode}: {r.stderr}")
    items = by_id(case(out)[0])
    for i in ids:
        # One stopped just after its scan committed has its folder complete
        # but no record: skipped too, never scanned twice into a mix.
        want = ["skipped"] if i in kept else ["ok", "skipped"]
        check(items[i]["status"] in want, f"{i}: rerun {items[i]['status']}, want {want}")
    check(sum(items[i]["status"] == "ok" for i in ids) >= 1, "the rerun scanned the rest")
    folder_state(out, ids)
    leftovers = [n for n in os.listdir(out) if ".old-" in n or ".stale-" in n]
    check(leftovers == [], f"no older folder left: {leftovers}")
    # An evidence file touched (a new modification time) is scanned again.
    raw = images[0][:-len(".E01")] + ".raw"
    copy = os.path.join(tmp, "copy-" + os.path.basename(raw))
    shutil.copyfile(raw, copy)
    r = run(["batch", "-q", "-o", os.path.join(tmp, "o2"), copy])
    check(r.returncode == 0, "copy scanned")
    r = run(["batch", "-q", "-o", os.path.join(tmp, "o2"), copy])
    check(by_id(case(os.path.join(tmp, "o2"))[0])[os.path.basename(copy)]["status"] == "skipped",
          "unchanged: skipped")
    os.utime(copy, ns=(time.time_ns(), time.time_ns() + 10**9))
    r = run(["batch", "-q", "-o", os.path.join(tmp, "o2"), copy])
    check(by_id(case(os.path.join(tmp, "o2"))[0])[os.path.basename(copy)]["status"] == "ok",
          "touched: scanned again")
    # Other definitions: scanned again.
    defs = os.path.join(tmp, "defs")
    shutil.copytree(os.path.join(SRC, "artifacts"), defs)
    with open(os.path.join(defs, "README.extra"), "w") as f:
        f.write("changed\n")
    r = run(["batch", "-q", "-a", defs, "-o", os.path.join(tmp, "o2"), copy])
    check(by_id(case(os.path.join(tmp, "o2"))[0])[os.path.basename(copy)]["status"] == "ok",
          "other definitions: scanned again")
    r = run(["batch", "-q", "--force", "-j", "2", "-o", out] + images)
    items = by_id(case(out)[0])
    check(all(items[i]["status"] == "ok" for i in ids), "--force: every item scanned again")
    folder_state(out, ids)
    # --hash: a rerun checks the media's hash before it skips.
    o3 = os.path.join(tmp, "o3")
    run(["batch", "-q", "--hash", "-o", o3, copy])
    r = run(["batch", "-q", "--hash", "-o", o3, copy])
    item = by_id(case(o3)[0])[os.path.basename(copy)]
    check(item["status"] == "skipped" and "hash checked" in (item["message"] or ""),
          f"--hash rerun skipped after the hash: {item}")


def test_inputs(tmp):
    images = pick(2)
    ev = os.path.join(tmp, "ev")
    os.makedirs(os.path.join(ev, "sub"))
    # A split raw set: three parts, one item.
    raw = os.path.join(EVIDENCE, "scenarios-unix")
    raws = [n for n in sorted(os.listdir(raw)) if n.endswith(".raw")] or []
    src = os.path.join(raw, raws[0]) if raws else images[0]
    data = open(src, "rb").read()
    if src.endswith(".raw"):
        third = (len(data) // 3 // 512 + 1) * 512
        for k in range(3):
            with open(os.path.join(ev, "sub", "split.%03d" % (k + 1)), "wb") as f:
                f.write(data[k * third:(k + 1) * third])
    # An EWF set of several segments, linked in.
    for n in sorted(os.listdir(EVIDENCE)):
        if n.startswith("windows.E0"):
            os.link(os.path.join(EVIDENCE, n), os.path.join(ev, n))
    # A system root folder: one item, not looked into.
    root = os.path.join(ev, "tree")
    os.makedirs(os.path.join(root, "etc"))
    os.makedirs(os.path.join(root, "usr", "deep.E01"))
    with open(os.path.join(root, "etc", "hostname"), "w") as f:
        f.write("treehost\n")
    with open(os.path.join(ev, "notes.txt"), "w") as f:
        f.write("not evidence\n")
    out = os.path.join(tmp, "out")
    r = run(["batch", "-q", "-j", "2", "-o", out, "-d", ev])
    cj = case(out)[0]
    got = sorted(i["id"] for i in cj["items"])
    want = sorted((["split.001"] if src.endswith(".raw") else []) + ["tree", "windows.E01"])
    check(got == want, f"discovered {got}, want {want}")
    for i in cj["items"]:
        check(i["status"] == "ok", f"{i['id']}: {i['status']} {i['message']}")
    if src.endswith(".raw"):
        man = json.load(open(os.path.join(out, "split.001", "manifest.json")))
        check(man["evidence"]["files"] == 3 and man["evidence"]["files_bytes"] == len(data),
              f"the split set stamped whole: {man['evidence']}")
    # A CSV manifest: ids, custodian, key file, notes, relative paths.
    key = os.path.join(tmp, "keys", "vol.key")
    os.makedirs(os.path.dirname(key))
    open(key, "w").write("recovery key\n")
    man = os.path.join(tmp, "case.csv")
    with open(man, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "evidence", "custodian", "key_file", "notes"])
        w.writerow(["laptop-7", images[0], "J. Doe, Finance", "keys/vol.key", 'seized "as is"\nline 2'])
        w.writerow(["server-2", os.path.relpath(images[1], tmp), "", "", ""])
        w.writerow(["lost-1", images[1], "", "keys/missing.key", ""])
    out2 = os.path.join(tmp, "out2")
    r = run(["batch", "-q", "-o", out2, "-m", man])
    check(r.returncode == 1, f"a missing key file fails its item: {r.returncode}")
    items = by_id(case(out2)[0])
    check(sorted(items) == ["laptop-7", "lost-1", "server-2"], f"ids {sorted(items)}")
    l7 = items["laptop-7"]
    check(l7["custodian"] == "J. Doe, Finance" and l7["notes"] == 'seized "as is"\nline 2'
          and l7["key_file"] == os.path.realpath(key), f"manifest columns carried: {l7}")
    check(items["server-2"]["evidence"] == os.path.realpath(images[1]), "relative to the manifest")
    check(items["lost-1"]["status"] == "failed" and "missing.key" in items["lost-1"]["message"],
          f"missing key file said: {items['lost-1']}")
    rows = {r["id"]: r for r in case(out2)[1]}
    check(rows["laptop-7"]["notes"] == 'seized "as is"\nline 2', "a note with quotes and LF in CSV")
    # A list manifest.
    lst = os.path.join(tmp, "list.txt")
    open(lst, "w").write("# the set\n%s\n\n%s\r\n" % (images[0], images[1]))
    r = run(["batch", "-q", "-o", os.path.join(tmp, "out3"), "-m", lst])
    check(r.returncode == 0 and len(case(os.path.join(tmp, "out3"))[0]["items"]) == 2, "list manifest")
    # Progress on a terminal (script(1) gives the batch one), none with -q.
    import re
    import shlex
    cmd = " ".join(shlex.quote(x) for x in [BIN, "batch", "-j", "1", "--force", "-o",
                                            os.path.join(tmp, "out3"), images[0], images[1]])
    tty = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True)
    tty.stdout = tty.stdout.decode()
    check(re.search(r"\r\x1b\[Kkavtrace: batch: 0/2 done, 1 running, \d+:\d\d elapsed, "
                    r"about \? left", tty.stdout) is not None and
          re.search(r"\r\x1b\[Kkavtrace: batch: 1/2 done, [01] running, \d+:\d\d elapsed, "
                    r"about \d+:\d\d left", tty.stdout) is not None,
          f"progress line on a terminal: {tty.stdout!r}")
    check("[2/2]" in tty.stdout and "case summary:" in tty.stdout, "a line per item, the summary")
    tty = subprocess.run(["script", "-qec", cmd.replace(" batch ", " batch -q "), "/dev/null"],
                         capture_output=True, text=True)
    check(tty.returncode == 0 and tty.stdout == "", f"-q: nothing at all: {tty.stdout!r}")
    # Bad use.
    r = run(["batch", "-o", os.path.join(tmp, "out4")])
    check(r.returncode == 2, "no evidence: usage error")
    bad = os.path.join(tmp, "bad.csv")
    open(bad, "w").write("id,evidence\n../x,%s\n" % images[0])
    r = run(["batch", "-o", os.path.join(tmp, "out4"), "-m", bad])
    check(r.returncode == 2 and "not a folder name" in r.stderr, f"bad id refused: {r.stderr}")
    r = run(["batch", "-f", "json,nope", "-o", os.path.join(tmp, "out4"), images[0]])
    check(r.returncode == 2 and "bad --format list" in r.stderr and
          not os.path.exists(os.path.join(tmp, "out4")), f"bad format refused: {r.stderr}")


CASE_FORMATS = "json,jsonl,html,sqlite"

# Run in the page: what the case index shows, for the checks against case.json.
INDEX_PROBE = r"""
(() => {
  const q = (s, e) => Array.from((e || document).querySelectorAll(s));
  const one = (s, e) => (e || document).querySelector(s);
  return JSON.stringify({
    rows: q('tr.item').map(tr => ({
      id: tr.dataset.id, status: tr.dataset.status,
      link: one('a.report', tr) ? one('a.report', tr).href : null,
      custodian: one('.custodian', tr) ? one('.custodian', tr).textContent : null,
      message: one('.message', tr) ? one('.message', tr).textContent : null,
      hosts: q('.system .host', tr).map(e => e.textContent),
      verdicts: q('td.verdict', tr).map(td => [td.dataset.verdict,
                                              q('span', td).map(e => e.textContent)]),
      products: q('.product', tr).map(d => ({system: +d.dataset.system, id: d.dataset.product,
        cutoff: one('.at-cutoff', d) ? one('.at-cutoff', d).dataset.state : null})),
      warnings: one('td.warnings', tr) ? one('td.warnings', tr).textContent : null,
    })),
    scripts: q('script').length,
    images: q('img').length,
    external: q('[src], link[href]').map(e => e.getAttribute('src') || e.getAttribute('href')),
    anchors: q('a[href]').map(a => a.href),
  });
})()
"""


def check_index(out, shots):
    """index.html in headless chromium against case.json; a screenshot kept."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from html_chromium import Browser
    from urllib.parse import unquote, urlparse
    cj = case(out)[0]
    url = "file://" + os.path.join(out, "index.html")
    prof = tempfile.mkdtemp(prefix="kt-chromium-")
    b = Browser(prof)
    try:
        t = b.call("Target.createTarget", url="about:blank")
        s = b.call("Target.attachToTarget", targetId=t["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            b.call(f"{domain}.enable", s)
        b.call("Emulation.setDeviceMetricsOverride", s, width=1400, height=900,
               deviceScaleFactor=1, mobile=False)
        b.events.clear()
        b.call("Page.navigate", s, url=url)
        b.wait_for("Page.loadEventFired")
        probe = json.loads(b.call("Runtime.evaluate", s, expression=INDEX_PROBE,
                                  returnByValue=True)["result"]["value"])
        shot = b.call("Page.captureScreenshot", s, format="png", captureBeyondViewport=True)
        os.makedirs(shots, exist_ok=True)
        path = os.path.join(shots, "case-index.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        print(f"case index: screenshot {path}", flush=True)
        b.call("Emulation.setDeviceMetricsOverride", s, width=380, height=800,
               deviceScaleFactor=1, mobile=True)
        width = b.call("Runtime.evaluate", s, expression="document.documentElement.scrollWidth",
                       returnByValue=True)["result"]["value"]
        check(width <= 400, f"index.html: {width} px wide on a 380 px screen")
        b.call("Target.closeTarget", targetId=t["targetId"])
        requests = [m["params"]["request"]["url"] for m in b.events
                    if m.get("method") == "Network.requestWillBeSent"]
        errors = [m for m in b.events if m.get("method") == "Runtime.exceptionThrown" or
                  (m.get("method") == "Log.entryAdded" and
                   m["params"]["entry"]["level"] == "error") or
                  (m.get("method") == "Runtime.consoleAPICalled" and
                   m["params"]["type"] == "error")]
    finally:
        b.close()
        shutil.rmtree(prof, ignore_errors=True)
    check(requests == [url], f"index.html: requests {requests}")
    check(errors == [], f"index.html: errors {errors[:3]}")
    check(probe["scripts"] == 0 and probe["images"] == 0 and probe["external"] == [],
          f"index.html: scripts {probe['scripts']}, images {probe['images']}, "
          f"external {probe['external']}")
    rows = probe["rows"]
    check([r["id"] for r in rows] == [i["id"] for i in cj["items"]],
          f"index.html: one row per item in case.json's order: {[r['id'] for r in rows]}")
    for r, it in zip(rows, cj["items"]):
        name = it["id"]
        check(r["status"] == it["status"], f"{name}: status {r['status']} vs {it['status']}")
        check(r["custodian"] == it["custodian"], f"{name}: custodian {r['custodian']!r} vs "
              f"{it['custodian']!r}")
        check(r["message"] == it["message"], f"{name}: message {r['message']!r}")
        report = os.path.join(out, name, "report.html")
        if it["systems"] is None:
            check(r["link"] is None and r["verdicts"] == [] and r["warnings"] is None,
                  f"{name}: shown without findings: {r}")
            continue
        check(r["link"] is not None and os.path.isfile(report), f"{name}: no link to its report")
        if r["link"]:
            u = urlparse(r["link"])
            check(u.scheme == "file" and os.path.realpath(unquote(u.path)) ==
                  os.path.realpath(report), f"{name}: link {r['link']} is not {report}")
        want_hosts = [s_["hostname"] or "(no hostname)" for s_ in it["systems"]]
        check(r["hosts"] == want_hosts, f"{name}: hosts {r['hosts']} vs {want_hosts}")
        want = [[v, [{True: "true", False: "false", None: "null"}[s_["verdicts"][v]]
                     for s_ in it["systems"]]] for v in VERDICTS]
        check(r["verdicts"] == want, f"{name}: verdicts {r['verdicts']} vs case.json {want}")
        want = []
        for k, s_ in enumerate(it["systems"]):
            states = {p["id"]: p["state"] for p in s_["state_at_cutoff"] or []}
            for p in s_["products"]:
                cut = None if s_["state_at_cutoff"] is None else states.get(p["id"], "unknown")
                want.append({"system": k, "id": p["id"], "cutoff": cut})
        check(r["products"] == want, f"{name}: products {r['products']} vs {want}")
        check(r["warnings"] == str(it["warnings"]), f"{name}: warnings {r['warnings']}")
    for a in probe["anchors"]:
        u = urlparse(a)
        check(u.scheme == "file" and os.path.isfile(unquote(u.path)), f"a link to nothing: {a}")
    return rows


def sql(db, query):
    r = subprocess.run(["sqlite3", "-readonly", "-json", db, query], capture_output=True,
                       text=True, env=dict(os.environ, TZ="UTC", LC_ALL="C.UTF-8"))
    check(r.returncode == 0, f"sqlite3 {query}: {r.stderr}")
    return json.loads(r.stdout) if r.stdout.strip() else []


def ns(iso):
    from datetime import datetime
    base, _, frac = iso.rstrip("Z").partition(".")
    t = datetime.fromisoformat(base + "+00:00")
    return int(t.timestamp()) * 10**9 + int((frac + "000000000")[:9])


def check_case_db(out):
    """case.sqlite through the sqlite3 shell: as case.json and each item's findings.json."""
    db = os.path.join(out, "case.sqlite")
    cj = case(out)[0]
    check(sql(db, "PRAGMA integrity_check") == [{"integrity_check": "ok"}], "case.sqlite integrity")
    check(sql(db, "PRAGMA foreign_key_check") == [], "case.sqlite foreign keys")
    items = sql(db, "SELECT item_id, item, status, message, custodian, notes FROM items "
                    "ORDER BY item_id")
    check([(r["item_id"], r["item"], r["status"], r["message"], r["custodian"], r["notes"])
           for r in items] ==
          [(k + 1, i["id"], i["status"], i["message"], i["custodian"], i["notes"])
           for k, i in enumerate(cj["items"])], f"case.sqlite items: {items}")
    verdicts = sql(db, "SELECT item, volume, verdict, answer FROM verdict_table")
    at_cutoff = sql(db, "SELECT item, volume, product FROM products_at_cutoff "
                        "ORDER BY item_id, product_row")
    updates = sql(db, "SELECT item, volume, product, kind, time FROM updates_after_cutoff")
    seen = {"at_cutoff": 0, "updates": 0}
    for it in cj["items"]:
        name = it["id"]
        if it["systems"] is None:
            check(not any(v["item"] == name for v in verdicts), f"{name}: verdicts without findings")
            continue
        f = json.load(open(os.path.join(out, name, "findings.json")))
        got = sorted((v["volume"], v["verdict"], v["answer"]) for v in verdicts
                     if v["item"] == name)
        want = sorted((s_["volume"]["index"], v,
                       {True: "true", False: "false", None: "null"}[val])
                      for s_ in f["systems"] for v, val in s_["verdicts"].items())
        check(got == want, f"{name}: verdict_table {got} vs findings.json {want}")
        cutoff = next(ns(m["time"]) for m in f["milestones"] if m["id"] == "cutoff")
        want = []
        for s_ in f["systems"]:
            for p in s_["products"]:
                since = p["installed"] or p["first_seen"]
                there = p["status"] == "present" or p["removed"] is None or \
                    ns(p["removed"]) >= cutoff
                if since and ns(since) < cutoff and there:
                    want.append((s_["volume"]["index"], p["id"]))
        got = [(r["volume"], r["product"]) for r in at_cutoff if r["item"] == name]
        check(got == want, f"{name}: products_at_cutoff {got} vs findings.json {want}")
        seen["at_cutoff"] += len(got)
        want = sorted((s_["volume"]["index"], p["id"], kind, p[key]) for s_ in f["systems"]
                      for p in s_["products"]
                      for kind, key in (("signature", "last_signature_update"),
                                        ("codebase", "last_codebase_update"))
                      if p[key] and ns(p[key]) >= cutoff)
        got = sorted((r["volume"], r["product"], r["kind"], r["time"]) for r in updates
                     if r["item"] == name)
        check(got == want, f"{name}: updates_after_cutoff {got} vs findings.json {want}")
        seen["updates"] += len(got)
        n = sql(db, f"SELECT count(*) AS n FROM events JOIN items USING (item_id) "
                    f"WHERE item = '{name}'")[0]["n"]
        check(n == f["run"]["events"], f"{name}: {n} events, findings.json {f['run']['events']}")
        n = sql(db, f"SELECT count(*) AS n FROM warnings JOIN items USING (item_id) "
                    f"WHERE item = '{name}'")[0]["n"]
        check(n == len(f["warnings"]), f"{name}: {n} warnings, findings.json {len(f['warnings'])}")
    check(seen["at_cutoff"] > 0 and seen["updates"] > 0, f"views empty across the case: {seen}")
    # evidence links stay within their item
    bad = sql(db, "SELECT count(*) AS n FROM verdict_evidence v LEFT JOIN events e "
                  "USING (item_id, event_id) WHERE e.event_id IS NULL")[0]["n"]
    check(bad == 0, f"{bad} verdict evidence rows without their item's event")


def html_text(s):
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")):
        s = s.replace(a, b)
    return s


def run_messages(data, out, escape=lambda s: s):
    """A failed scan's message names its run's partial folder: replaced."""
    for it in case(out)[0]["items"]:
        if it["status"] == "failed" and it["message"]:
            data = data.replace(escape(it["message"]).encode(), b"@MESSAGE@")
    return data


def index_normalised(out):
    data = open(os.path.join(out, "index.html"), "rb").read()
    return run_messages(data, out, html_text)


def case_db_normalised(out):
    """case.sqlite's bytes with every item's run values replaced (as
    outputs_deterministic.py does for one item)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from outputs_deterministic import normalise
    data = run_messages(open(os.path.join(out, "case.sqlite"), "rb").read(), out)
    for it in case(out)[0]["items"]:
        d = os.path.join(out, it["id"])
        if it["systems"] is None:
            continue
        run = json.load(open(os.path.join(d, "run.json")))
        f = json.load(open(os.path.join(d, "findings.json")))
        data = normalise(data, run, f["run"]["process_bytes_read"])
    return data


def test_case(tmp):
    images = pick(5)
    broken = os.path.join(tmp, "broken.E01")
    with open(broken, "wb") as f:
        f.write(b"EVF\x09\x0d\x0a\xff\x00" + b"\x00" * 4096)
    man = os.path.join(tmp, "case-manifest.csv")
    with open(man, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "evidence", "custodian"])
        for k, img in enumerate(images):
            w.writerow([os.path.basename(img), img,
                        '<img src=x onerror=alert(1)> & "Finance"' if k == 0 else ""])
        w.writerow(["broken", broken, ""])
    out = os.path.join(tmp, "a")
    r = run(["batch", "-q", "-j", "2", "-f", CASE_FORMATS, "-o", out, "-m", man])
    check(r.returncode == 1, f"a broken item: exit 1, got {r.returncode}: {r.stderr}")
    cj = case(out)[0]
    check(cj["totals"]["ok"] == len(images) and cj["totals"]["failed"] == 1,
          f"totals {cj['totals']}")
    shots = os.environ.get("KT_ARTIFACT_DIR") or os.path.join(tmp, "shots")
    check_index(out, shots)
    check_case_db(out)
    index_a = open(os.path.join(out, "index.html"), "rb").read()
    db_a = open(os.path.join(out, "case.sqlite"), "rb").read()
    # Rebuilt from the items' outputs: the same bytes.
    r = run(["batch", "-q", "-o", out, "-f", CASE_FORMATS, "--summarize"])
    check(open(os.path.join(out, "index.html"), "rb").read() == index_a,
          "--summarize rebuilds the same index.html")
    check(open(os.path.join(out, "case.sqlite"), "rb").read() == db_a,
          "--summarize rebuilds the same case.sqlite")
    # A second batch of the same evidence: the same but for the run fields.
    out_b = os.path.join(tmp, "b")
    run(["batch", "-q", "-j", "2", "-f", CASE_FORMATS, "-o", out_b, "-m", man])
    check(index_normalised(out_b) == index_normalised(out),
          "a second batch writes the same index.html (but for the failed scan's message)")
    check(b"@MESSAGE@" in index_normalised(out), "the failed item's message shown")
    db_b = open(os.path.join(out_b, "case.sqlite"), "rb").read()
    check(db_b != db_a, "two batches' case.sqlite hold their own run fields")
    check(case_db_normalised(out_b) == case_db_normalised(out),
          "two batches' case.sqlite differ beyond the items' run fields")
    # Without html and sqlite: no index.html, no case.sqlite left behind.
    r = run(["batch", "-q", "-f", "json", "-o", out_b, "-m", man])
    check(not os.path.exists(os.path.join(out_b, "index.html")) and
          not os.path.exists(os.path.join(out_b, "case.sqlite")),
          "a batch without html and sqlite leaves no older index.html or case.sqlite")
    st = {i["id"]: i["status"] for i in case(out_b)[0]["items"]}
    check(all(st[os.path.basename(i)] == "skipped" for i in images), f"fewer formats: skipped {st}")
    # Items written without kavtrace.sqlite are scanned again when it is asked for.
    out_c = os.path.join(tmp, "c")
    run(["batch", "-q", "-f", "json", "-o", out_c] + images[:2])
    r = run(["batch", "-q", "-f", "json,sqlite", "-o", out_c] + images[:2])
    st = {i["id"]: i["status"] for i in case(out_c)[0]["items"]}
    check(r.returncode == 0 and set(st.values()) == {"ok"}, f"sqlite asked for: rescanned {st}")
    n = sql(os.path.join(out_c, "case.sqlite"), "SELECT count(*) AS n FROM items "
                                                "WHERE run_id IS NOT NULL")[0]["n"]
    check(n == 2, f"case.sqlite holds both items' rows: {n}")
    check(not os.path.exists(os.path.join(out_c, "index.html")), "no html asked: no index.html")
    # An item's database unreadable: failed with the reason, in every output alike.
    victim = os.path.basename(images[1])
    with open(os.path.join(out_c, victim, "kavtrace.sqlite"), "r+b") as f:
        f.write(b"garbage, not SQLite" * 10)
    r = run(["batch", "-q", "-o", out_c, "-f", "json,sqlite,html", "--summarize"])
    it = by_id(case(out_c)[0])[victim]
    check(r.returncode == 1 and it["status"] == "failed" and
          "kavtrace.sqlite" in (it["message"] or "") and it["systems"] is None,
          f"an unreadable kavtrace.sqlite fails its item: {it}")
    rows = sql(os.path.join(out_c, "case.sqlite"), "SELECT item, status FROM items ORDER BY item")
    check({r_["item"]: r_["status"] for r_ in rows}[victim] == "failed",
          f"case.sqlite says so too: {rows}")
    html = open(os.path.join(out_c, "index.html"), encoding="utf-8").read()
    check(f'data-id="{victim}" data-status="failed"' in html, "index.html says so too")


def strip_times(raw):
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    col = rows[0].index("run_time_s")
    return [r[:col] + r[col + 1:] for r in rows]


def test_slurm(tmp):
    images = pick(4)
    # A sanitizer build's scans cannot start under an address-space limit.
    sanitized = "(default 0;" in run(["batch", "--help"]).stdout
    mem = ["--item-memory", "0" if sanitized else "1024"]
    # The script, without a cluster.
    r = run(["batch", "--slurm", "--dry-run", "--slurm-throttle", "3", "--item-timeout", "600",
             "--item-memory", "1024", "--sbatch=--partition=local", "-f", CASE_FORMATS,
             "-o", os.path.join(tmp, "dry")] + images)
    check(r.returncode == 0, f"dry run: {r.stderr}")
    s = r.stdout
    for want in ["#SBATCH --array=0-3%3", "#SBATCH --time=12", "#SBATCH --mem=1024M",
                 "#SBATCH --partition=local", "--slurm-task \"$SLURM_ARRAY_TASK_ID\"",
                 f"--summarize -f '{CASE_FORMATS}'", "afterany"]:
        check(want in s, f"dry-run script holds {want!r}")
    check(not os.path.exists(os.path.join(tmp, "dry")), "a dry run writes nothing")

    cluster = os.path.join(tmp, "slurm")
    up = subprocess.run([os.path.join(SRC, "scripts", "slurm-local"), "start", cluster],
                        capture_output=True, text=True, timeout=120)
    if up.returncode != 0:
        print("SKIPPED: the Slurm daemons cannot start here:", up.stderr.strip(), flush=True)
        return 77
    try:
        env = dict(os.environ, SLURM_CONF=os.path.join(cluster, "slurm.conf"))
        out = os.path.join(tmp, "slurm-out")
        r = subprocess.run([BIN, "batch", "--slurm", "--slurm-throttle", "2", "--item-timeout", "300",
                            "-f", CASE_FORMATS, "-o", out] + mem + images,
                           capture_output=True, text=True, env=env)
        check(r.returncode == 0, f"submitted: {r.stdout} {r.stderr}")
        jobs = r.stdout.strip().splitlines()[-1].split()
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            q = subprocess.run(["squeue", "-h", "-j", ",".join(jobs)], capture_output=True,
                               text=True, env=env)
            if q.returncode == 0 and q.stdout.strip() == "" and os.path.exists(os.path.join(out, "case.csv")):
                break
            time.sleep(1)
        check(os.path.exists(os.path.join(out, "case.csv")), "the summary job wrote case.csv")
        tasks = [n for n in os.listdir(os.path.join(out, ".kavtrace-batch", "slurm")) if n.startswith("task-")]
        check(len(tasks) == len(images), f"one array task per item ran: {tasks}")
        local = os.path.join(tmp, "local")
        r = run(["batch", "-q", "-j", "2", "--item-timeout", "300", "-f", CASE_FORMATS, "-o", local]
                + mem + images)
        check(r.returncode == 0, f"local run: {r.stderr}")
        a, b = case(out)[2], case(local)[2]
        check(strip_times(a) == strip_times(b), "Slurm's case summary equals the local -j 2 run's")
        ja, jb = case(out)[0], case(local)[0]
        for x in ja["items"] + jb["items"]:
            x.pop("run_time_ms")
        check(ja == jb, "case.json too")
        check(ja["totals"]["ok"] == len(images), f"every item ok on Slurm: {ja['totals']}")
        # The summary job's index.html and case.sqlite: the local run's (but
        # for the items' run fields in the database).
        check(os.path.exists(os.path.join(out, "index.html")) and
              index_normalised(out) == index_normalised(local),
              "Slurm's index.html equals the local run's")
        check(os.path.exists(os.path.join(out, "case.sqlite")) and
              case_db_normalised(out) == case_db_normalised(local),
              "Slurm's case.sqlite equals the local run's but for the run fields")
    finally:
        subprocess.run([os.path.join(SRC, "scripts", "slurm-local"), "stop", cluster])
    return 0


TESTS = {"case": test_case, "scenarios": test_scenarios, "faults": test_faults, "resume": test_resume,
         "inputs": test_inputs, "slurm": test_slurm}


def main():
    name = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="kt-batch-")
    try:
        rc = TESTS[name](tmp) or 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        return 1
    print("ok" if rc == 0 else "", flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
