#!/usr/bin/env python3
"""report.html rendered by a real browser (Debian's chromium, headless), on
every scenario, driven through the DevTools protocol over a pipe
(--remote-debugging-pipe: no network port, nothing but the standard
library). For each report: the only request is the file itself, no script
error or console error (a blocked fetch is one), and the DOM holds what
findings.json says: every system's eight verdicts with their answers and
evidence links that lead to event rows, every product's bar and facts,
every milestone's line, every event's row with its text (escaped text
reads back as the evidence's). A screenshot of each is kept under
KT_ARTIFACT_DIR (the build tree)."""
import base64
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from outputs_common import SCENARIOS, Failures, scan  # noqa: E402

CHROMIUM = os.environ.get("KT_CHROMIUM", "chromium")


class Browser:
    def __init__(self, profile):
        r_cmd, w_cmd = os.pipe()  # we write commands, chromium reads fd 3
        r_ev, w_ev = os.pipe()  # chromium writes fd 4, we read
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--remote-debugging-pipe", f"--user-data-dir={profile}", "--hide-scrollbars",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "about:blank"]

        def fds():
            # the pipes where chromium wants them; the fds are kept by
            # pass_fds, the others closed after this runs
            ev = os.dup(w_ev)
            os.dup2(r_cmd, 3)
            os.dup2(ev, 4)

        self.proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=fds,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r_cmd)
        os.close(w_ev)
        self.w = os.fdopen(w_cmd, "wb")
        self.r = os.fdopen(r_ev, "rb")
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read(self):
        while b"\0" not in self.buf:
            chunk = self.r.read1(1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method, session=None, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self.w.write(json.dumps(msg).encode() + b"\0")
        self.w.flush()
        while True:
            m = self._read()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]
            self.events.append(m)

    def wait_for(self, method):
        for i, m in enumerate(self.events):
            if m.get("method") == method:
                return self.events.pop(i)
        while True:
            m = self._read()
            if m.get("method") == method:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.call("Browser.close")
        except (RuntimeError, BrokenPipeError):
            pass
        self.proc.wait(timeout=30)


# Run in the page: what the report shows, for the checks against findings.json.
PROBE = r"""
(() => {
  const q = (s, e) => Array.from((e || document).querySelectorAll(s));
  const systems = q('section.system').map(sec => ({
    volume: +sec.dataset.volume,
    verdicts: q('tr.verdict', sec).map(tr => ({
      name: tr.dataset.verdict,
      answer: tr.children[1].textContent.split(' ')[0],
      evidence: q('a', tr.children[3]).map(a => a.getAttribute('href').slice(1)),
    })),
    milestones: q('g.milestone-line', sec).filter(g => g.querySelector('line'))
      .map(g => g.dataset.milestone),
    bars: q('g.product-bar', sec).map(g => {
      const r = g.querySelector('rect.bar');
      return {id: g.dataset.product, width: r ? r.getBBox().width : 0};
    }),
    products: q('h3.product', sec).map(h => h.dataset.product),
  }));
  const links = q('a[href^="#E"]').map(a => a.getAttribute('href').slice(1));
  return JSON.stringify({
    systems,
    brokenLinks: links.filter(id => !document.getElementById(id)),
    events: q('tr.event').map(tr => ({id: tr.id, what: tr.children[4].textContent})),
    scripts: q('script').length,
    external: q('[src], link[href], a[href]').map(e => e.getAttribute('src') ||
      e.getAttribute('href')).filter(u => !u.startsWith('#')),
    svgs: q('svg.timeline').length,
  });
})()
"""


def check_report(b, name, folder, shots, fails):
    url = "file://" + os.path.join(folder, "report.html")
    t = b.call("Target.createTarget", url="about:blank")
    s = b.call("Target.attachToTarget", targetId=t["targetId"], flatten=True)["sessionId"]
    for domain in ("Page", "Network", "Runtime", "Log"):
        b.call(f"{domain}.enable", s)
    b.call("Emulation.setDeviceMetricsOverride", s, width=1200, height=900,
           deviceScaleFactor=1, mobile=False)
    b.events.clear()
    b.call("Page.navigate", s, url=url)
    b.wait_for("Page.loadEventFired")
    probe = json.loads(b.call("Runtime.evaluate", s, expression=PROBE,
                              returnByValue=True)["result"]["value"])
    shot = b.call("Page.captureScreenshot", s, format="png", captureBeyondViewport=True)
    path = os.path.join(shots, f"{name}.png")
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    # a narrow screen: the page fits, nothing wider than it but the scrolled boxes
    b.call("Emulation.setDeviceMetricsOverride", s, width=380, height=800,
           deviceScaleFactor=1, mobile=True)
    width = b.call("Runtime.evaluate", s, expression="document.documentElement.scrollWidth",
                   returnByValue=True)["result"]["value"]
    fails.check(width <= 400, f"{name}: {width} px wide on a 380 px screen")
    b.call("Target.closeTarget", targetId=t["targetId"])

    requests = [m["params"]["request"]["url"] for m in b.events
                if m.get("method") == "Network.requestWillBeSent"]
    errors = [m for m in b.events if m.get("method") == "Runtime.exceptionThrown" or
              (m.get("method") == "Log.entryAdded" and
               m["params"]["entry"]["level"] == "error") or
              (m.get("method") == "Runtime.consoleAPICalled" and
               m["params"]["type"] == "error")]
    fails.check(requests == [url], f"{name}: requests {requests}")
    fails.check(errors == [], f"{name}: errors {errors[:3]}")
    fails.check(probe["scripts"] == 0, f"{name}: {probe['scripts']} scripts")
    fails.check(probe["external"] == [], f"{name}: external references {probe['external']}")
    fails.check(probe["brokenLinks"] == [], f"{name}: links to no row {probe['brokenLinks']}")

    findings = json.load(open(os.path.join(folder, "findings.json"), encoding="utf-8"))
    milestones = [m["id"] for m in findings["milestones"]]
    got = {s["volume"]: s for s in probe["systems"]}
    fails.check(len(got) == len(findings["systems"]) == probe["svgs"],
                f"{name}: {len(got)} systems shown, {probe['svgs']} pictures, "
                f"{len(findings['systems'])} found")
    for fs in findings["systems"]:
        vol = fs["volume"]["index"]
        g = got.get(vol)
        if not fails.check(g is not None, f"{name}: volume {vol} not shown"):
            continue
        want = [{"name": k, "answer": {True: "true", False: "false", None: "null"}[v],
                 "evidence": fs["verdict_evidence"][k]} for k, v in fs["verdicts"].items()]
        fails.check(g["verdicts"] == want, f"{name}: verdicts {g['verdicts']} != {want}")
        fails.check(g["milestones"] == milestones,
                    f"{name}: milestone lines {g['milestones']} != {milestones}")
        ids = [p["id"] for p in fs["products"]]
        fails.check([b_["id"] for b_ in g["bars"]] == ids, f"{name}: bars {g['bars']} != {ids}")
        fails.check(all(b_["width"] > 0 for b_ in g["bars"]), f"{name}: an empty bar {g['bars']}")
        fails.check(g["products"] == ids, f"{name}: products {g['products']} != {ids}")
    # every event's row, its text as the evidence's (timeline.jsonl's message)
    msgs = [json.loads(line) for line in open(os.path.join(folder, "timeline.jsonl"),
                                              encoding="utf-8")]
    fails.check([e["id"] for e in probe["events"]] == [m["event_id"] for m in msgs],
                f"{name}: event rows differ from the timeline")
    for e, m in zip(probe["events"], msgs):
        if not any(ord(c) < 32 or 0x7f <= ord(c) < 0xa0 for c in m["message"]):
            fails.check(e["what"] == m["message"], f"{name}: {e['id']}: {e['what']!r} shown, "
                        f"{m['message']!r} found")
    return path


def main():
    fails = Failures()
    shots = os.environ.get("KT_ARTIFACT_DIR") or tempfile.mkdtemp()
    os.makedirs(shots, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        b = Browser(os.path.join(tmp, "profile"))
        try:
            for set_, name, container in SCENARIOS:
                out = scan(set_, name, container, os.path.join(tmp, name), "json,jsonl,html")
                path = check_report(b, name, out, shots, fails)
                print(f"{name}: screenshot {path}")
        finally:
            b.close()
    fails.finish("html_chromium")


if __name__ == "__main__":
    main()
