# SPDX-License-Identifier: MIT
"""A zone never goes bogus because of content (doc/invariants.md, invariant 2).

A table of faults, each on a daemon of its own, all at once. After the fault the daemon
runs 30 simulated days on a fake clock that holds while a job runs (so that a busy loop
shows as hundreds of runs per simulated hour). For every fault:
  - every version published meanwhile validates at its own time (ldns-verify-zone, and
    dnssec-verify under faketime), and the version out at the end is still valid then:
    the last good version kept being re-signed;
  - runs stay at a few per simulated hour while the fault lasts (no tight loop);
  - the fault shows in GET /v1/zones/{zone} (or the write that would cause it is refused).
"""
import concurrent.futures
import json
import os
import re
import time
from datetime import datetime, timezone

import pytest

from zktest.daemon import Daemon, wait_for
from zktest.tools import Setup, bind_verify_at, ldns_verify_at, need, run
from zktest.zones import SIMPLE

A = "example.com."
DAY = 86400
T0 = 1795737600                     # 2026-11-27T00:00:00Z
DAYS = 30
SPEED = 150000                      # simulated seconds per real second: 30 days in ~17 s
MAX_RUNS_PER_HOUR = 3.0             # backoff settles at 2 an hour (RETRY_MAX 30 min)
DS_HEX = "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766"

ZONE = SIMPLE.format(origin=A) + "".join("h%d IN A 10.0.0.%d\n" % (i, i) for i in range(20)) \
    + "sub IN NS ns.elsewhere.example.\n"


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def published_at(text):
    m = re.search(r"signed by zonekeeper at (\S+)Z", text)
    return int(datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
               .replace(tzinfo=timezone.utc).timestamp())


def validate(path, t):
    """ldns-verify-zone and dnssec-verify judge the file as of instant t."""
    p = ldns_verify_at(path, t)
    if p.returncode != 0:
        return "ldns-verify-zone at %s: %s%s" % (iso(t), p.stdout[-500:], p.stderr[-500:])
    p = bind_verify_at(path, A, t)
    if p.returncode != 0:
        return "dnssec-verify at %s: %s%s" % (iso(t), p.stdout[-500:], p.stderr[-500:])
    return None


class Ctx:
    """One fault's daemon, its files and what the fault left to check."""

    def __init__(self, root, policy=None):
        self.root = root
        self.archive = root / "archive"
        self.archive.mkdir(parents=True)
        script = root / "archive.sh"
        script.write_text('#!/bin/sh\nn=$(ls "%s" | wc -l)\ncp "$1" "%s/$(printf %%05d "$n").zone"\n'
                          % (self.archive, self.archive))
        script.chmod(0o755)
        self.s = Setup(root, [A], policy or {},
                       extra='publish = { reload_command = "%s %%f"; };' % script)
        self.s.write_zone(A, ZONE)
        self.d = None
        self.notes = []
        self.mounted = False

    def start(self):
        self.d = Daemon(self.s, env={"ZONEKEEPER_FAKE_TIME": "%d@%d,hold" % (T0, SPEED)})
        self.d.wait_ready()
        wait_for(lambda: self.d.zone(A)["serial"], what="the first publication")

    def now(self):
        code, h = self.d.api("/v1/health")
        assert code == 200
        return h["unixtime"]

    def zone(self):
        return self.d.zone(A)

    def post(self, name, rtype, content, wait=False):
        body = json.dumps({"name": name, "type": rtype, "content": content})
        return self.d.api("/v1/zones/%s/records%s" % (A, "?wait=published" if wait else ""),
                          "POST", body)


# ---------------------------------------------------------------- the faults
# Each takes the running context, applies the fault, and returns a check of the zone's
# status showing it (None: the fault was refused where it came in, nothing persists).

def input_broken(code):
    def check(z):
        return z["input_broken"] and z["error"] and z["error"]["code"] == code
    return check


def ds_at_the_apex_in_the_input(c):
    c.s.write_zone(A, ZONE + "@ IN DS 12345 13 2 %s\n" % DS_HEX)
    return input_broken("INVALID_RECORD")


def ds_without_ns_in_the_input(c):
    c.s.write_zone(A, ZONE + "nodeleg IN DS 12345 13 2 %s\n" % DS_HEX)
    return input_broken("INVALID_RECORD")


def too_many_apex_ns_in_the_input(c):
    c.s.write_zone(A, ZONE + "".join("@ IN NS ns%d.provider.example.\n" % i for i in range(17)))
    return input_broken("LIMIT_EXCEEDED")


def input_is_a_fifo(c):
    p = c.s.input_file(A)
    p.unlink()
    os.mkfifo(p)
    return input_broken("ZONE_PARSE_ERROR")


def input_is_gone(c):
    c.s.input_file(A).unlink()
    return lambda z: z["input_broken"] and z["error"]


def input_is_a_directory(c):
    p = c.s.input_file(A)
    p.unlink()
    p.mkdir()
    return lambda z: z["input_broken"] and z["error"]


def broken_input_with_pending_writes(c):
    c.s.write_zone(A, ZONE + "bad line that does not parse\n")
    wait_for(lambda: c.zone()["input_broken"], what="the broken input seen")
    for i in range(5):
        code, j = c.post("w%d" % i, "A", "192.0.2.%d" % (100 + i))
        assert code == 201, j
    # nothing lost: the writes are published although the input stays broken
    c.expect_in_output = ["w%d.example.com.\t" % i for i in range(5)]
    return input_broken("ZONE_PARSE_ERROR")


def key_file_deleted(c):
    keys = c.s.key_dir(A)
    victim = sorted(p for p in keys.iterdir() if p.name.endswith(".private"))[0]
    victim.unlink()
    return lambda z: z["error"] and z["error"]["code"] == "KEY_ERROR" and \
        z["failures"] > 0 and z["retry_at"]


def api_write_to_a_keep_zone(c):
    before = c.zone()["serial"]
    code, j = c.post("kept", "A", "192.0.2.77", wait=True)
    assert code == 201 and j["published"], j
    assert j["serial"] == before + 1, (before, j)
    c.expect_in_output = ["kept.example.com.\t"]
    return None


def apex_ns_over_the_limit_through_the_api(c):
    for i in range(16):
        code, j = c.post("@", "NS", "ns%d.provider.example." % i)
        assert code == 201, j
    code, j = c.post("@", "NS", "ns16.provider.example.")
    assert code == 400 and j["error"]["code"] == "LIMIT_EXCEEDED", j
    return None


def ds_left_without_its_ns_by_a_file_edit(c):
    code, j = c.post("sub", "DS", "12345 13 2 " + DS_HEX)
    assert code == 201, j
    # the file loses the delegation before the write reaches it: the replayed DS would
    # sit at a name without NS, so it is skipped (and logged), not published
    c.s.write_zone(A, ZONE.replace("sub IN NS ns.elsewhere.example.\n", ""))
    c.log_expect = "skipped after a concurrent edit"
    return None


def rollover_requests_in_a_row(c):
    codes = []
    for _ in range(5):
        code, j = c.d.api("/v1/zones/%s/keys/rollover" % A, "POST", '{"type":"zsk"}')
        codes.append(code)
    assert codes[0] == 200 and set(codes[1:]) == {409}, codes
    return None


FAULTS = [
    (ds_at_the_apex_in_the_input, None),
    (ds_without_ns_in_the_input, None),
    (too_many_apex_ns_in_the_input, None),
    (input_is_a_fifo, None),
    (input_is_gone, None),
    (input_is_a_directory, None),
    (broken_input_with_pending_writes, None),
    (key_file_deleted, None),
    (api_write_to_a_keep_zone, {"serial": '"keep"'}),
    (apex_ns_over_the_limit_through_the_api, None),
    (ds_left_without_its_ns_by_a_file_edit, None),
    (rollover_requests_in_a_row, None),
]


def full_disk(c):
    """The output directory full for 3 days (then freed): nothing can be published."""
    out = c.s.output_file(A).parent
    filler = out / "filler"
    try:
        with open(filler, "wb") as f:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
    except OSError:
        pass
    c.heal_after = 3 * DAY
    c.heal = filler.unlink
    return lambda z: z["error"] and z["failures"] > 0


def run_fault(root, fault, policy, mount_output=False):
    """The fault on a daemon of its own for 30 simulated days: what went wrong, if any."""
    c = Ctx(root, policy)
    problems = []
    try:
        if mount_output:
            out = c.s.output
            out.mkdir(parents=True, exist_ok=True)
            p = run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", out])
            if p.returncode != 0:
                return None  # no mounts here: this case is left out
            c.mounted = True
        observe(c, fault, problems)
    except AssertionError as e:
        problems.append("%s (zone: %s)" % (e, json.dumps(c.d.zone(A)) if c.d else "-"))
    finally:
        if c.d:
            c.d.close()
        if c.mounted:
            run(["umount", c.s.output])
    if problems:
        return problems
    # every version at its own time; the last one still valid at the end
    versions = sorted(c.archive.glob("*.zone"))
    if len(versions) < 2:
        problems.append("only %d publications in %d days" % (len(versions), DAYS))
    for v in versions:
        err = validate(v, published_at(v.read_text()))
        if err:
            problems.append("%s: %s" % (v.name, err))
    err = validate(c.final, c.t_end)
    if err:
        problems.append("the zone out at the end (%s) is bogus then: %s" % (iso(c.t_end), err))
    return problems


def observe(c, fault, problems):
    c.expect_in_output = []
    c.log_expect = None
    c.heal_after = None
    c.start()
    t_fault = c.now()
    runs0 = c.zone()["runs"]
    visible = fault(c)
    if visible:
        wait_for(lambda: visible(c.zone()), timeout=15, what="the fault in the status")
    healed = False
    end = t_fault + DAYS * DAY
    deadline = time.monotonic() + 120
    while True:
        now = c.now()
        if c.heal_after and not healed and now >= t_fault + c.heal_after:
            runs_fault_end, t_heal = c.zone()["runs"], now
            c.heal()
            healed = True
        if now >= end:
            break
        assert time.monotonic() < deadline, "the fake clock did not reach %d days" % DAYS
        time.sleep(0.2)
    z = c.zone()
    if visible and not c.heal_after and not visible(z):
        problems.append("the fault no longer shows at the end: %s" % json.dumps(z))
    if c.heal_after:
        runs, hours = runs_fault_end - runs0, (t_heal - t_fault) / 3600
        if z["error"] or z["failures"]:
            problems.append("no recovery after the fault ended: %s" % json.dumps(z))
    else:
        runs, hours = z["runs"] - runs0, (c.now() - t_fault) / 3600
    if runs / hours > MAX_RUNS_PER_HOUR:
        problems.append("%d runs in %.0f simulated hours" % (runs, hours))
    c.t_end = c.now()
    c.final = c.root / "last.zone"
    c.final.write_text(c.s.output_file(A).read_text())
    for want in c.expect_in_output:
        if want not in c.final.read_text():
            problems.append("%r is not in the published zone" % want)
    if c.log_expect and c.log_expect not in c.d.log_text():
        problems.append("the log does not say %r" % c.log_expect)


def test_no_fault_makes_a_zone_bogus_or_busy(tmp_path):
    need("dnssec-verify")
    need("ldns-verify-zone")
    cases = [(f.__name__, f, p, False) for f, p in FAULTS] + [("full_disk", full_disk, None, True)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(cases)) as pool:
        futs = {name: pool.submit(run_fault, tmp_path / name, f, p, m)
                for name, f, p, m in cases}
        results = {name: fut.result() for name, fut in futs.items()}
    report = ["%s: %s" % (name, "; ".join(r)) for name, r in results.items() if r]
    assert not report, "\n".join(report)
    assert results["full_disk"] is not None or os.geteuid() != 0
