# SPDX-License-Identifier: MIT
"""Many zones in one daemon (doc/api.md, Zones as data; signer/daemon/manager.c, the run
queue): thousands of zones created through the API or listed in the configuration file
all publish, with a file descriptor budget that does not grow with the zones; any number
of input directories is watched; a customer's write never waits behind other zones'
large re-signings; a reload runs only the zones whose settings changed.

Requests go over the Unix socket from this process (no client process per request), so
the figures are the daemon's."""
import calendar
import json
import os
import random
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import zktest.daemon
from zktest.api import Client, raw_http
from zktest.daemon import Daemon, wait_for
from zktest.tools import POLICY_DEFAULTS, Setup, zk
from zktest.zones import SIMPLE

CLIENTS = 20            # concurrent API clients creating zones
FD_BUDGET = 64          # open descriptors allowed at the end, whatever the number of zones


# ---------------------------------------------------------------- helpers

def call(d, method, path, body=None, timeout=60.0):
    """One request over the daemon's socket: (status, json)."""
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    return raw_http(d.api_socket, method, path, body or b"", timeout=timeout)


def all_zones(d, limit=1000, state=None):
    """Every zone, page by page (GET /v1/zones?limit=&after=), each seen exactly once."""
    out, after, pages = [], None, 0
    while True:
        q = "limit=%d" % limit + ("&state=" + state if state else "") + \
            ("&after=" + after if after else "")
        code, j = call(d, "GET", "/v1/zones?" + q)
        assert code == 200 and j["status"] == "ok", (code, j)
        assert len(j["zones"]) <= limit, (q, len(j["zones"]))
        out += j["zones"]
        pages += 1
        assert pages < 100000, "the listing does not end"
        if not j["next"]:
            break
        assert j["next"] == j["zones"][-1]["name"], j["next"]
        after = j["next"]
    names = [z["name"] for z in out]
    assert len(names) == len(set(names)), "a zone listed twice: %s" % sorted(
        n for n in set(names) if names.count(n) > 1)[:10]
    return out


def zone(d, name):
    """GET /v1/zones/{name} over the socket (faster than a client process, for tight polls)."""
    code, j = call(d, "GET", "/v1/zones/" + name)
    assert code == 200 and j["status"] == "ok", (code, j)
    return j["zone"]


def by_name(zones):
    return {z["name"]: z for z in zones}


def n_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def max_jobs(d):
    """How many zones the daemon signs at once (its start-up line says)."""
    m = re.search(r"(\d+) signing at once", d.log_text())
    assert m, "no start-up line in the log:\n" + d.log_text()[-2000:]
    return int(m.group(1))


def serial_of_file(path):
    for line in path.read_text().splitlines():
        f = line.split("\t")
        if len(f) >= 5 and f[3] == "SOA":
            return int(f[4].split()[2])
    raise AssertionError("no SOA in %s" % path)


def log_problems(d):
    """Errors in the log, and what scale would show first: descriptors running out,
    directories not watched."""
    return [l for l in d.log_text().splitlines()
            if "zonekeeperd[error]" in l or "Too many open files" in l or "cannot watch" in l]


def set_zone_fields(setup, zone, fields):
    """Give one zone of the configuration Setup wrote more settings (input_file, ...)."""
    text = setup.config.read_text()
    old = re.search(r'\{ name = "%s";(?: policy = "[^"]*";)? \}' % re.escape(zone), text)
    assert old, "zone %s not in %s" % (zone, setup.config)
    new = old.group(0)[:-1] + "".join('%s = "%s"; ' % kv for kv in fields.items()) + "}"
    setup.config.write_text(text.replace(old.group(0), new))


def rewrite_config(setup, zones, policies):
    """The configuration again with other zones or policies, the API socket kept."""
    setup.write_config(zones, policies, 'api = { socket = "%s"; };' % setup.api_socket)


def reload(d, timeout=120):
    n = len(d.read_notify())
    d.signal(signal.SIGHUP)
    d.wait_notify("RELOADING=1", timeout=timeout, after=n)
    d.wait_notify("READY=1", timeout=timeout, after=n)


def start_limited(monkeypatch, tmp_path, setup, nofile):
    """A Daemon whose descriptors are limited to `nofile`, soft and hard (the daemon raises
    its soft limit to the hard one): started through a script that sets the limit and
    execs the daemon, so the process is the daemon itself."""
    wrapper = tmp_path / "zonekeeperd-nofile"
    wrapper.write_text("#!/bin/sh\nexec prlimit --nofile=%d:%d -- %s \"$@\"\n"
                       % (nofile, nofile, zktest.daemon.ZONEKEEPERD))
    wrapper.chmod(0o755)
    monkeypatch.setattr(zktest.daemon, "ZONEKEEPERD", wrapper)
    return Daemon(setup)


def nofile_limits(pid):
    for line in open("/proc/%d/limits" % pid):
        if line.startswith("Max open files"):
            f = line.split()
            return int(f[3]), int(f[4])
    raise AssertionError("no descriptor limit for %d" % pid)


# ---------------------------------------------------------------- 2,000 zones by the API

N_API = 2000


def creation(i):
    return {"name": "z%04d.scale.test." % i,
            "records": [{"name": "www", "type": "A", "content": "192.0.2.%d" % (1 + i % 250),
                         "ttl": 3600},
                        {"name": "@", "type": "MX", "content": "10 mail", "ttl": 3600},
                        {"name": "mail", "type": "A", "content": "192.0.2.25", "ttl": 3600},
                        {"name": "@", "type": "TXT", "content": '"zone %d"' % i, "ttl": 600}]}


@pytest.mark.slow
def test_two_thousand_zones_created_through_the_api(tmp_path):
    s = Setup(tmp_path, [], policy={"verify": '"standard"'})
    d = Daemon(s)
    try:
        d.wait_ready()
        names = ["z%04d.scale.test." % i for i in range(N_API)]

        def create(i):
            t = time.monotonic()
            code, j = call(d, "POST", "/v1/zones", creation(i), timeout=120)
            assert code == 201 and j["status"] == "ok", (i, code, j)
            assert j["zone"]["name"] == names[i], j
            return time.monotonic() - t

        t0 = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as ex:
            latencies = list(ex.map(create, range(N_API)))
        t_created = time.monotonic() - t0
        # every zone signed and published (the listing filtered by state, paged)
        wait_for(lambda: len(all_zones(d, state="ok")) == N_API, timeout=600,
                 what="%d zones published" % N_API, interval=1.0)
        t_published = time.monotonic() - t0
        print("%d zones: created in %.1fs (slowest answer %.2fs), all published in %.1fs"
              % (N_API, t_created, max(latencies), t_published))

        # paged by 100: every zone exactly once, in the order of the index; once the API
        # records have been written back to the input files (a write-back shows the zone
        # as "signing" for its while), all of them ok at once
        def settled():
            zones = all_zones(d, limit=100)
            assert [z["name"] for z in zones] == sorted(names), "listing by 100 differs"
            for z in zones:
                assert z["serial"] and z["error"] is None and z["source"] == "api", z
            return zones if all(z["state"] == "ok" and not z["pending_writeback"]
                                for z in zones) else None
        zones = wait_for(settled, timeout=300, what="every zone ok, written back",
                         interval=1.0)
        assert not log_problems(d), log_problems(d)

        # every signed file is there with its serial, keys, NSEC3 parameters and records
        status = by_name(zones)
        for i, name in enumerate(names):
            out = s.output_file(name)
            assert out.exists(), "%s: no signed file" % name
            text = out.read_text()
            for what in ("\tDNSKEY\t257 3 13 ", "\tDNSKEY\t256 3 13 ", "\tNSEC3PARAM\t",
                         "\tRRSIG\tSOA ", "\tRRSIG\tNSEC3 ",
                         "www.%s\t3600\tIN\tA\t192.0.2.%d\n" % (name, 1 + i % 250),
                         '\tTXT\t"zone %d"\n' % i):
                assert what in text, "%s: no %r in %s" % (name, what, out)
            assert serial_of_file(out) == status[name]["serial"], name
        # a sample, validated in full
        for name in random.Random(2000).sample(names, 50):
            p = zk("verify", "--origin", name, s.output_file(name), timeout=60)
            assert p.returncode == 0, "%s: %s%s" % (name, p.stdout, p.stderr)

        # nothing held per zone: the descriptors do not grow with the zones
        fds = n_fds(d.proc.pid)
        print("open descriptors with %d zones: %d" % (N_API, fds))
        assert fds < FD_BUDGET, sorted(os.readlink("/proc/%d/fd/%s" % (d.proc.pid, f))
                                       for f in os.listdir("/proc/%d/fd" % d.proc.pid))
    finally:
        d.close()


# ---------------------------------------------------------------- 1,500 zones, 1024 fds

N_CONF = 1500
NOFILE = 1024


@pytest.mark.slow
def test_fifteen_hundred_zones_start_under_1024_descriptors(tmp_path, monkeypatch):
    names = ["c%04d.scale.test." % i for i in range(N_CONF)]
    s = Setup(tmp_path, names, policy={"verify": '"standard"'})
    for n in names:
        s.write_zone(n, SIMPLE.format(origin=n))
    # temporary files an earlier crash left, for three zones; a stranger's stays
    s.output.mkdir(parents=True, exist_ok=True)
    stale = [s.output / "c0000.scale.test.zone.tmp.Ab12Cd",
             s.output / "c1499.scale.test.zone.tmp.Zz99Yy",
             s.input / "c0700.scale.test.zone.tmp.q1w2e3"]
    stranger = s.output / "other.test.zone.tmp.abcdef"
    for f in stale + [stranger]:
        f.write_text("half a zone\n")

    t0 = time.monotonic()
    d = start_limited(monkeypatch, tmp_path, s, NOFILE)
    try:
        wait_for(lambda: s.api_socket.exists() or d.proc.poll() is not None, timeout=60,
                 what="the API socket")
        assert d.proc.poll() is None, d.log_text()[-3000:]
        assert nofile_limits(d.proc.pid) == (NOFILE, NOFILE)
        # the API answers all the while the zones are signed
        answers, slowest, during = 0, 0.0, 0
        while True:
            t = time.monotonic()
            code, j = call(d, "GET", "/v1/health", timeout=20)
            slowest = max(slowest, time.monotonic() - t)
            assert code == 200 and j["status"] == "ok", (code, j)
            answers += 1
            n_ok = len(all_zones(d, state="ok"))
            if n_ok == N_CONF:
                break
            during += 1
            assert d.proc.poll() is None, d.log_text()[-3000:]
            assert time.monotonic() - t0 < 600, "%d of %d zones published" % (n_ok, N_CONF)
            time.sleep(0.2)
        t_all = time.monotonic() - t0
        d.wait_ready(timeout=60)
        print("%d zones under %d descriptors: all published in %.1fs; %d health answers "
              "meanwhile, slowest %.2fs" % (N_CONF, NOFILE, t_all, answers, slowest))
        assert during >= 1, "every zone was published before the API could be asked"
        assert slowest < 5.0, "the API took %.1fs to answer while zones were signed" % slowest

        zones = all_zones(d)
        assert sorted(z["name"] for z in zones) == sorted(names)
        for z in zones:
            assert z["state"] == "ok" and z["serial"] and z["error"] is None, z
        for n in names:
            assert s.output_file(n).exists(), n
        assert "Too many open files" not in d.log_text()
        assert not log_problems(d), log_problems(d)
        # the crash's leftovers removed at start, all of them in one sweep, the stranger's
        # file left alone
        assert not any(f.exists() for f in stale), [f for f in stale if f.exists()]
        assert stranger.exists()
        assert re.findall(r"removed (\d+) temporary file", d.log_text()) == ["3"], \
            d.log_text()[:3000]
        fds = n_fds(d.proc.pid)
        print("open descriptors with %d zones: %d" % (N_CONF, fds))
        assert fds < FD_BUDGET, fds
        check_metrics_at_scale(d, zones)
    finally:
        d.close()


def metric_lines(text, name):
    return [ln for ln in text.splitlines() if ln.startswith(name + "{") or
            ln.startswith(name + " ")]


def check_metrics_at_scale(d, zones):
    """/metrics over many zones: the aggregates always, per-zone series only for zones
    that need attention (none here), for one zone (?zone=) or for all (?zones=all)."""
    c = Client(d.api_socket)
    r = c.get("/metrics")
    assert r.status == 200, r
    assert metric_lines(r.text, "zonekeeper_zones") == [
        'zonekeeper_zones{state="%s"} %d' % (st, N_CONF if st == "ok" else 0)
        for st in ("ok", "signing", "error", "pending")], r.text[:2000]
    assert metric_lines(r.text, "zonekeeper_zones_failing") == ["zonekeeper_zones_failing 0"]
    runs = metric_lines(r.text, "zonekeeper_runs_total")
    assert len(runs) == 1 and int(runs[0].split()[1]) >= N_CONF, runs
    expiry = metric_lines(r.text, "zonekeeper_rrsig_expiry_min_seconds")
    assert len(expiry) == 1 and int(expiry[0].split()[1]) > 7 * 86400, expiry
    assert metric_lines(r.text, "zonekeeper_zone_serial") == [], "healthy zones listed"
    print("/metrics with %d healthy zones: %d bytes" % (N_CONF, len(r.text)))
    assert len(r.text) < 16384, len(r.text)

    one = zones[N_CONF // 2]
    r = c.get("/metrics?zone=" + one["name"])
    assert r.status == 200, r
    assert metric_lines(r.text, "zonekeeper_zone_serial") == [
        'zonekeeper_zone_serial{zone="%s"} %d' % (one["name"], one["serial"])], r.text[:3000]

    r = c.get("/metrics?zones=all")
    assert r.status == 200, r
    serials = metric_lines(r.text, "zonekeeper_zone_serial")
    assert len(serials) == N_CONF, len(serials)

    for bad, status in (("/metrics?zones=some", 400), ("/metrics?zone=nowhere.test.", 404)):
        r = c.get(bad)
        assert r.status == status, (bad, r.status, r.text[:300])


# ---------------------------------------------------------------- a directory per customer

N_DIRS = 100


def test_one_input_directory_per_customer(tmp_path):
    names = ["cust%03d.test." % i for i in range(1, N_DIRS + 1)]
    s = Setup(tmp_path, names)
    inputs = {}
    for i, n in enumerate(names, 1):
        p = tmp_path / "customers" / ("c%03d" % i) / (n + "zone")
        p.parent.mkdir(parents=True)
        p.write_text(SIMPLE.format(origin=n))
        set_zone_fields(s, n, {"input_file": str(p)})
        inputs[n] = p
    d = Daemon(s)
    try:
        d.wait_ready(timeout=120)
        before = by_name(all_zones(d))
        assert all(z["state"] == "ok" and z["serial"] for z in before.values()), \
            [z for z in before.values() if z["state"] != "ok"][:3]
        assert {z["name"]: z["input_file"] for z in before.values()} == \
            {n: str(p) for n, p in inputs.items()}
        # one inotify watch per directory, all hundred of them
        pid = d.proc.pid
        watches = 0
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:  # the daemon opens and closes files meanwhile (jobs, journals)
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:inotify":
                    watches += sum(l.startswith("inotify wd:")
                                   for l in open("/proc/%d/fdinfo/%s" % (pid, fd)))
            except FileNotFoundError:
                continue
        assert watches >= N_DIRS, "%d inotify watches for %d directories" % (watches, N_DIRS)

        # the 100th edited in place, the 70th replaced by a rename (as an editor does)
        last, mid = names[N_DIRS - 1], names[69]
        with open(inputs[last], "a") as f:
            f.write("edited IN A 192.0.2.100\n")
        tmp = inputs[mid].parent / ".new.tmp"
        tmp.write_text(SIMPLE.format(origin=mid) + "renamed IN A 192.0.2.70\n")
        tmp.rename(inputs[mid])
        for n, owner in ((last, "edited." + last), (mid, "renamed." + mid)):
            z = d.wait_zone(n, lambda z: z["serial"] != before[n]["serial"] and
                            z["state"] == "ok", timeout=60, what="%s re-published" % n)
            assert (z["serial"] - before[n]["serial"]) % 2**32 < 2**31, (z, before[n])
            assert owner + "\t" in s.output_file(n).read_text()
            assert serial_of_file(s.output_file(n)) == z["serial"]
        # and only those two ran
        after = by_name(all_zones(d))
        ran = sorted(n for n in names if after[n]["runs"] != before[n]["runs"])
        assert ran == sorted([last, mid]), ran
        assert not log_problems(d), log_problems(d)
    finally:
        d.close()


# ---------------------------------------------------------------- no head-of-line blocking

BIG_NAMES = 300000       # names over all the large zones, shared among them
SMALL = "small.test."
WRITES = 10


def big_zone(origin, n):
    lines = ["$ORIGIN " + origin, "$TTL 3600",
             "@ IN SOA ns1.example.net. hostmaster 1 7200 3600 1209600 3600"]
    lines += ["h%06d IN A 10.%d.%d.%d" % (i, i >> 16, (i >> 8) & 255, i & 255)
              for i in range(n)]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_small_writes_do_not_wait_behind_large_resignings(tmp_path):
    """As many large zones as the daemon signs at once (every background slot taken) are
    re-signed in full by an algorithm change; meanwhile writes to a small zone, which a
    client waits on, are published each in a fraction of the large runs."""
    pol = dict(POLICY_DEFAULTS, verify='"standard"')
    policies = {"default": dict(POLICY_DEFAULTS),
                "big": pol, "big-ed": dict(pol, algorithm='"ED25519"')}
    # the number of large zones is the daemon's max_jobs: from a first start
    s = Setup(tmp_path, [SMALL], policies=policies)
    s.write_zone(SMALL, SIMPLE.format(origin=SMALL))
    d = Daemon(s)
    try:
        d.wait_ready()
        jobs = max_jobs(d)
    finally:
        d.close()
    bigs = ["big%d.test." % i for i in range(jobs)]
    per_zone = BIG_NAMES // jobs
    rewrite_config(s, [SMALL] + [(b, "big") for b in bigs], policies)
    for b in bigs:
        s.write_zone(b, big_zone(b, per_zone))

    t0 = time.monotonic()
    d = Daemon(s)
    try:
        d.wait_ready(timeout=600)
        print("%d large zone(s) of %d names, first signing: %.1fs"
              % (jobs, per_zone, time.monotonic() - t0))
        for b in bigs:
            assert d.zone(b)["state"] == "ok", d.zone(b)
        # an algorithm change: every RRset of the large zones signed again
        text = s.config.read_text()
        for b in bigs:
            text = text.replace('{ name = "%s"; policy = "big"; }' % b,
                                '{ name = "%s"; policy = "big-ed"; }' % b)
        s.config.write_text(text)
        t_reload = time.monotonic()
        reload(d)
        wait_for(lambda: all(zone(d, b)["state"] == "signing" for b in bigs), timeout=60,
                 what="every large zone signing", interval=0.02)
        t_signing = time.monotonic()
        took = []
        for i in range(WRITES):
            t = time.monotonic()
            code, j = call(d, "POST", "/v1/zones/%s/records?wait=published" % SMALL,
                           {"name": "w%d" % i, "type": "A", "content": "192.0.2.%d" % (10 + i),
                            "ttl": 300}, timeout=300)
            took.append(time.monotonic() - t)
            assert code == 201 and j.get("serial"), (code, j)
        t_writes = time.monotonic()
        still = {b: zone(d, b)["state"] for b in bigs}
        for b in bigs:
            d.wait_zone(b, lambda z: z["state"] == "ok", timeout=600, what="%s re-signed" % b)
        big_run = time.monotonic() - t_signing
        print("full re-sign of the large zones: %.1fs after the reload (%.1fs after all "
              "were signing); %d small writes in %.2fs, slowest %.3fs, median %.3fs"
              % (time.monotonic() - t_reload, big_run, WRITES, t_writes - t_signing,
                 max(took), sorted(took)[WRITES // 2]))
        assert all(v == "signing" for v in still.values()), \
            "the large runs ended before the small writes did: %s" % still
        assert max(took) < 0.25 * big_run, (took, big_run)
        # all published: the small zone with its writes, the large ones under ED25519
        out = s.output_file(SMALL).read_text()
        for i in range(WRITES):
            assert "w%d.%s\t300\tIN\tA\t192.0.2.%d\n" % (i, SMALL, 10 + i) in out
        p = zk("verify", "--origin", SMALL, s.output_file(SMALL), timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        for b in bigs:
            z = d.zone(b)
            assert z["error"] is None and z["signatures_made"] >= 2 * per_zone, z
            # RFC 6781 4.1.4: the new algorithm signs before its DNSKEYs appear
            with open(s.output_file(b)) as f:
                head = f.read(1 << 16)
            assert "\tRRSIG\tSOA 15 " in head and "\tRRSIG\tSOA 13 " in head, b
        assert not log_problems(d), log_problems(d)
    finally:
        d.close()


# ---------------------------------------------------------------- a reload runs what changed

N_RELOAD = 200


def test_reload_runs_only_what_changed(tmp_path):
    names = ["r%03d.test." % i for i in range(N_RELOAD)]
    policies = {"default": dict(POLICY_DEFAULTS),
                "alt": dict(POLICY_DEFAULTS, denial='"nsec"')}
    s = Setup(tmp_path, names, policies=policies)
    for n in names:
        s.write_zone(n, SIMPLE.format(origin=n))
    d = Daemon(s)
    try:
        d.wait_ready(timeout=120)
        before = by_name(all_zones(d))
        assert all(z["state"] == "ok" and z["runs"] >= 1 for z in before.values()), \
            [z for z in before.values() if z["state"] != "ok"][:3]

        # one zone added: it publishes, nothing else runs
        new = "added.test."
        s.write_zone(new, SIMPLE.format(origin=new))
        rewrite_config(s, names + [new], policies)
        reload(d)
        d.wait_zone(new, lambda z: z["state"] == "ok" and z["serial"], timeout=60,
                    what="the added zone published")
        assert s.output_file(new).exists()
        time.sleep(1.0)   # a run queued by the reload would have started by now
        after = by_name(all_zones(d))
        ran = sorted(n for n in names if after[n]["runs"] != before[n]["runs"])
        assert not ran, "%d zone(s) ran again on a reload that only added one: %s" \
            % (len(ran), ran[:10])
        assert "1 zone(s) added, 0 changed" in d.log_text()

        # one zone's policy changed: that zone runs (and is NSEC now), no other
        moved = names[N_RELOAD // 2]
        rewrite_config(s, [(n, "alt") if n == moved else n for n in names] + [new],
                       policies)
        reload(d)
        d.wait_zone(moved, lambda z: z["runs"] > after[moved]["runs"] and z["state"] == "ok",
                    timeout=60, what="the re-configured zone run")
        wait_for(lambda: "\tNSEC\t" in s.output_file(moved).read_text(), timeout=60,
                 what="the zone published with NSEC")
        time.sleep(1.0)
        final = by_name(all_zones(d))
        ran = sorted(n for n in names + [new]
                     if n != moved and final[n]["runs"] != after[n]["runs"])
        assert not ran, "%d zone(s) ran again on a reload that changed one: %s" \
            % (len(ran), ran[:10])
        assert "0 zone(s) added, 1 changed" in d.log_text()
        assert not log_problems(d), log_problems(d)
    finally:
        d.close()


# ---------------------------------------------------------------- spread over time

def iso_seconds(ts):
    return calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))


def test_zones_created_together_fall_due_apart(tmp_path):
    """Zones created in one burst do not all come due at the same instant: their next key
    event is spread over an hour and their first refresh over the jitter window, each
    zone at a place its name decides (the same after a restart)."""
    s = Setup(tmp_path, [])
    d = Daemon(s)
    try:
        d.wait_ready()
        names = ["spread%02d.scale.test." % i for i in range(60)]
        for n in names:
            code, j = call(d, "POST", "/v1/zones?wait=published", {"name": n})
            assert code == 201 and j["zone"]["serial"], (code, j)
        zones = by_name(all_zones(d))
        nexts = sorted(iso_seconds(zones[n]["next_event"]) for n in names)
        # a new zone's first event is its keys' next step: spread over KEY_SPREAD (1 h)
        assert len(set(nexts)) >= 50, nexts
        assert nexts[-1] - nexts[0] >= 40 * 60, (nexts[0], nexts[-1])
        before = {n: zones[n]["next_event"] for n in names}
        # the signatures' expirations: each zone at its own place in the 12 h window
        expiries = sorted(iso_seconds(zones[n]["earliest_expiry"]) for n in names)
        assert expiries[-1] - expiries[0] >= 6 * 3600, (expiries[0], expiries[-1])
    finally:
        d.close()
    d = Daemon(s)
    try:
        d.wait_ready()
        zones = by_name(all_zones(d))
        # the same places after a restart
        assert {n: zones[n]["next_event"] for n in names} == before
    finally:
        d.close()
