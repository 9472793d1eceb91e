# SPDX-License-Identifier: MIT
"""Crash safety: kill -9 at random moments during a stream of edits, 50 times. After each
kill the published file is a complete valid signed zone and the serial never went down;
after the last restart the zone converges to the latest input (invariants 4, 5, 23)."""
import random
import re

import pytest

from zktest.daemon import Daemon, wait_for
from zktest.tools import Setup, ldns_verify
from zktest.zones import SIMPLE

A = "example.com."
KILLS = 50


def soa_serial(path):
    m = re.search(r"\tSOA\t\S+ \S+ (\d+) ", path.read_text())
    return int(m.group(1))


def gt_or_eq(a, b):
    return a == b or (a - b) % 2**32 < 2**31


@pytest.mark.slow
def test_kill_9_during_edits(tmp_path):
    rng = random.Random(20261127)
    s = Setup(tmp_path, [A], {"serial": '"increment"'})
    base = SIMPLE.format(origin=A) + "".join("n%d IN A 10.1.%d.%d\n" % (i, i // 256, i % 256)
                                             for i in range(300))
    s.write_zone(A, base + "marker IN TXT \"0\"\n")
    out = s.output_file(A)
    highest = 0
    for i in range(1, KILLS + 1):
        d = Daemon(s, debounce_ms=rng.choice([0, 5, 20]))
        try:
            if i == 1:
                d.wait_ready()
            # a burst of edits, the last one wins; kill at a random moment within it
            for k in range(rng.randint(1, 4)):
                s.write_zone(A, base + "marker IN TXT \"%d-%d\"\n" % (i, k))
                if rng.random() < 0.5:
                    tmp = s.input / ".tmp"
                    tmp.write_text(base + "marker IN TXT \"%d-%d\"\n" % (i, k))
                    tmp.rename(s.input_file(A))
            import time
            time.sleep(rng.uniform(0, 0.25))
        finally:
            d.kill9()
            d.close()
        if out.exists():
            p = ldns_verify(out)
            assert p.returncode == 0, "after kill %d: %s" % (i, p.stdout + p.stderr)
            serial = soa_serial(out)
            assert gt_or_eq(serial, highest), "serial went down: %d after %d" % (serial, highest)
            highest = serial
    # converge: the last input is published, and nothing a crash left half-written stays
    stale = [s.output / "example.com.zone.tmp.AbC123",
             s.state / "zones" / "example.com" / "keyring.tmp.XyZ789"]
    for f in stale:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("half a file\n")
    keep = s.output / "example.com.zone.tmp.notours"
    keep.write_text("not a name zk_atomic makes\n")
    d = Daemon(s)
    try:
        d.wait_ready()
        assert not any(f.exists() for f in stale)
        assert keep.exists()
        assert not list(s.output.glob("*.tmp.??????")), list(s.output.iterdir())
        last = "marker.example.com.\t3600\tIN\tTXT\t\"%d-" % KILLS
        wait_for(lambda: last in out.read_text(), what="convergence to the last edit")
        assert ldns_verify(out).returncode == 0
        assert gt_or_eq(soa_serial(out), highest)
    finally:
        d.close()
