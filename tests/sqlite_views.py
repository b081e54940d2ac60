#!/usr/bin/env python3
"""kavtrace.sqlite opened by the sqlite3 shell, on every scenario: its
integrity and foreign keys hold, and its tables and views answer what
findings.json says (verdicts and their evidence, products, the products
there at the cutoff, the updates after it, the events and warnings)."""
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime

sys.path.insert(0, os.path.dirname(__file__))
from outputs_common import ENV, SCENARIOS, Failures, scan  # noqa: E402


def shell(db, sql):
    r = subprocess.run(["sqlite3", "-readonly", "-json", db, sql], env=ENV, capture_output=True,
                       text=True)
    if r.returncode != 0:
        sys.exit(f"sqlite3 {db}: {sql}: {r.stderr}")
    return json.loads(r.stdout) if r.stdout.strip() else []


def ns(iso):
    """An ISO time of the outputs (up to 9 fraction digits) in ns."""
    if iso is None:
        return None
    base, _, frac = iso.rstrip("Z").partition(".")
    t = datetime.fromisoformat(base + "+00:00")
    return int(t.timestamp()) * 10**9 + int((frac + "000000000")[:9])


def main():
    fails = Failures()
    nontrivial = {"products_at_cutoff": 0, "updates_after_cutoff": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for set_, name, container in SCENARIOS:
            out = scan(set_, name, container, os.path.join(tmp, name), "json,sqlite")
            db = os.path.join(out, "kavtrace.sqlite")
            f = json.load(open(os.path.join(out, "findings.json"), encoding="utf-8"))
            ok = shell(db, "PRAGMA integrity_check")
            fails.check(ok == [{"integrity_check": "ok"}], f"{name}: integrity {ok}")
            fk = shell(db, "PRAGMA foreign_key_check")
            fails.check(fk == [], f"{name}: foreign keys {fk[:3]}")
            cutoff = next(ns(m.get("time")) for m in f["milestones"] if m["id"] == "cutoff")

            # verdicts, their evidence and what they rest on
            rows = shell(db, "SELECT volume, verdict, answer, backing, left_open FROM verdict_table")
            got = {(r["volume"], r["verdict"]): (r["answer"], r["backing"], bool(r["left_open"]))
                   for r in rows}
            want = {}
            for s in f["systems"]:
                vol = s["volume"]["index"]
                for v, val in s["verdicts"].items():
                    want[(vol, v)] = ({True: "true", False: "false", None: "null"}[val],
                                      s["verdict_backing"][v], v in s["verdicts_left_open"])
            fails.check(got == want, f"{name}: verdicts {got} != findings.json {want}")
            rows = shell(db, "SELECT s.volume, e.verdict, e.event_id FROM verdict_evidence e "
                         "JOIN systems s USING (system_id) ORDER BY e.rowid")
            got = [(r["volume"], r["verdict"], r["event_id"]) for r in rows]
            want = [(s["volume"]["index"], v, i) for s in f["systems"]
                    for v, l in s["verdict_evidence"].items() for i in l]
            fails.check(sorted(got) == sorted(want), f"{name}: verdict evidence differs")

            # products, and the views over them
            fields = ["first_seen", "installed", "last_signature_update", "last_codebase_update",
                      "ksn", "status", "removed", "removal_method", "version", "name"]
            rows = shell(db, "SELECT s.volume, p.* FROM products p JOIN systems s "
                         "USING (system_id) ORDER BY product_row")
            got = [(r["volume"], r["product"], *[r[k] for k in fields]) for r in rows]
            want = [(s["volume"]["index"], p["id"], *[p[k] for k in fields]) for s in f["systems"]
                    for p in s["products"]]
            fails.check(got == want, f"{name}: products {got} != {want}")
            rows = shell(db, "SELECT volume, product, installed FROM products_at_cutoff "
                         "ORDER BY product_row")
            got = [(r["volume"], r["product"]) for r in rows]
            want = []
            for s in f["systems"]:
                for p in s["products"]:
                    since = ns(p["installed"] or p["first_seen"])
                    there = p["status"] == "present" or p["removed"] is None or \
                        ns(p["removed"]) >= cutoff
                    if since is not None and since < cutoff and there:
                        want.append((s["volume"]["index"], p["id"]))
            fails.check(got == want, f"{name}: products_at_cutoff {got} != findings.json {want}")
            nontrivial["products_at_cutoff"] += len(got)
            rows = shell(db, "SELECT volume, product, kind, time FROM updates_after_cutoff")
            got = sorted((r["volume"], r["product"], r["kind"], r["time"]) for r in rows)
            want = sorted((s["volume"]["index"], p["id"], kind, p[key]) for s in f["systems"]
                          for p in s["products"]
                          for kind, key in (("signature", "last_signature_update"),
                                            ("codebase", "last_codebase_update"))
                          if p[key] and ns(p[key]) >= cutoff)
            fails.check(got == want, f"{name}: updates_after_cutoff {got} != findings.json {want}")
            nontrivial["updates_after_cutoff"] += len(got)
            # The verdicts agree with the view for the subject vendor.
            for s in f["systems"]:
                for kind in ("signature", "codebase"):
                    v = s["verdicts"][f"{kind}_update_after_cutoff"]
                    seen = any(g[0] == s["volume"]["index"] and g[2] == kind and
                               g[1].startswith("kaspersky") for g in got)
                    fails.check(seen == (v is True),
                                f"{name}: {kind}_update_after_cutoff {v}, view {seen}")

            # events and warnings: as many, each verdict's evidence among them
            n = shell(db, "SELECT count(*) AS n FROM events")[0]["n"]
            fails.check(n == f["run"]["events"], f"{name}: {n} events, findings {f['run']['events']}")
            missing = shell(db, "SELECT event_id FROM verdict_evidence WHERE event_id NOT IN "
                            "(SELECT event_id FROM events)")
            fails.check(missing == [], f"{name}: evidence without its event {missing}")
            plan = subprocess.run(["sqlite3", "-readonly", db, "EXPLAIN QUERY PLAN SELECT * FROM "
                                   "events WHERE category = 'ksn' ORDER BY time_ns"],
                                  env=ENV, capture_output=True, text=True).stdout
            fails.check("events_category" in plan, f"{name}: category index unused: {plan}")
            rows = shell(db, "SELECT severity, code, path, message FROM warnings ORDER BY seq")
            want = [{"severity": w["severity"], "code": w["code"], "path": w["path"],
                     "message": w["message"]} for w in f["warnings"]]
            fails.check(rows == want, f"{name}: warnings differ")
    for view, count in nontrivial.items():
        fails.check(count > 0, f"{view} empty on every scenario: nothing was tested")
    print(nontrivial)
    fails.finish("sqlite_views")


if __name__ == "__main__":
    main()
