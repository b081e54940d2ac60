"""What the output tests share: the scenarios (as the golden scan test has
them) and a scan of one through the real command line."""
import os
import subprocess
import sys

SCENARIOS = [
    ("scenarios", "kes-active", "E01"),
    ("scenarios", "consumer-migrated", "E01"),
    ("scenarios", "kavremover-early", "E01"),
    ("scenarios", "clean-decoys", "E01"),
    ("scenarios", "kes-uninstalled", "E01"),
    ("scenarios", "ksws-server", "E01"),
    ("scenarios", "kes-russian", "E01"),
    ("scenarios", "consumer-vpn", "E01"),
    ("scenarios-unix", "kesl-ubuntu", "E01"),
    ("scenarios-unix", "kesl-rhel-removed", "E01"),
    ("scenarios-unix", "linux-decoys", "E01"),
    ("scenarios-unix", "kesl-opensuse-installer", "E01"),
    ("scenarios-unix", "kesl-astra", "E01"),
    ("scenarios-unix", "kaspersky-mac-removed", "tree"),
    ("scenarios-unix", "kes-mac-managed", "tree"),
]

# Environment the tests ask for, fixed: never the host's zone or locale.
ENV = dict(os.environ, TZ="UTC", LC_ALL="C.UTF-8")


def evidence(set_, name, container):
    return os.path.join(os.environ["KT_EVIDENCE_DIR"], set_, f"{name}.{container}")


def artifacts():
    return os.path.join(os.environ["KT_TESTDATA_DIR"], "..", "artifacts")


def scan(set_, name, container, outdir, formats, extra=()):
    """Run `kavtrace scan` on a scenario into outdir; fail loudly."""
    cmd = [os.environ["KT_BIN"], "scan", "-q", "-a", artifacts(), "-f", formats, "-o", outdir,
           *extra, evidence(set_, name, container)]
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{name}: scan exited {r.returncode}: {r.stderr}")
    return outdir


class Failures:
    """Collects failures so one run reports them all."""

    def __init__(self):
        self.items = []

    def check(self, ok, msg):
        if not ok:
            self.items.append(msg)
        return ok

    def finish(self, what):
        for m in self.items[:50]:
            print("FAIL:", m)
        if self.items:
            sys.exit(f"{what}: {len(self.items)} failure(s)")
        print(f"{what}: ok")
