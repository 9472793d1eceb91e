# SPDX-License-Identifier: MIT
"""Key rollovers in the running daemon, on a fake clock: a KSK rollover asks for the new
DS (CDS/CDNSKEY) and keeps the old KSK until the parent serves the new DS, as its
parental agents (NSD serving the parent zone on loopback) or an operator (`zonekeeper key
ds-seen`) say, never on time alone; unreachable agents are reported and change nothing;
and a rollover interrupted by kill -9 any number of times ends where an uninterrupted one
does, with no key generated twice."""
import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from zktest.api import Client
from zktest.daemon import Daemon, wait_for
from zktest.servers import Nsd, query
from zktest.tools import Setup, need, run, zk
from zktest.zones import child_zone

ZONE = "child.test."
PARENT = "test."
HOUR = 3600
DAY = 86400
T0 = 1795737600          # 2026-11-27T00:00:00Z
SPEED = 2 * DAY          # simulated seconds per real second

# Short signature lifetimes (a ZSK rollover lasts Dsgn = validity - refresh plus the TTLs),
# no rollover by lifetime (every rollover here is asked for), the parent asked every 12
# simulated hours (4 times a real second).
POLICY = {
    "ksk_lifetime": '"0"',
    "zsk_lifetime": '"0"',
    "max_zone_ttl": '"1h"',
    "rrsig_validity": '"4d"',
    "rrsig_refresh": '"2d"',
    "rrsig_jitter": '"12h"',
    "soa": '{ expire = "1d"; }',
    "dnskey_ttl": '"1h"',
    "propagation_delay": '"5m"',
    "publish_safety": '"1h"',
    "retire_safety": '"1h"',
    "parent_ds_ttl": '"2d"',
    "parent_propagation_delay": '"1h"',
    "ds_check_interval": '"12h"',
}
DS_TTL, DPRP_PARENT, RETIRE_SAFETY = 2 * DAY, HOUR, HOUR


# ---------------------------------------------------------------- the published zone

def _iso(t):
    return datetime.strptime(t, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()


class Published:
    """One version of the published signed zone, read once (the daemon replaces the file
    atomically): what the rollover shows in it."""

    def __init__(self, path):
        self.text = Path(path).read_text()
        m = re.search(r"serial (\d+) signed by zonekeeper at (\S+)Z", self.text)
        assert m, "no header in %s" % path
        self.serial = int(m.group(1))
        self.signed_at = int(_iso(m.group(2)))
        self.dnskeys = {}      # tag -> flags
        self.cds = set()
        self.cdnskey = set()
        self.dnskey_signers = set()
        for line in self.text.splitlines():
            if not line.strip() or line[0] in ";$":
                continue
            name, _, _, rtype, rdata = line.split(None, 4)
            if name.lower() != ZONE:
                continue
            if rtype in ("DNSKEY", "CDNSKEY"):
                rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, rdata)
                if rtype == "DNSKEY":
                    self.dnskeys[dns.dnssec.key_id(rd)] = rd.flags
                else:
                    self.cdnskey.add(dns.dnssec.key_id(rd))
            elif rtype == "CDS":
                self.cds.add(int(rdata.split()[0]))
            elif rtype == "RRSIG" and rdata.split()[0] == "DNSKEY":
                self.dnskey_signers.add(int(rdata.split()[6]))

    def ksks(self):
        return {t for t, f in self.dnskeys.items() if f & 1}

    def zsks(self):
        return {t for t, f in self.dnskeys.items() if not f & 1}


def ldns_verify(pub, tmp):
    """ldns-verify-zone on this version (the daemon may have published another since), at
    its own (simulated) time."""
    need("ldns-verify-zone")
    path = Path(tmp) / ("verify-%d.zone" % pub.serial)
    path.write_text(pub.text)
    ts = datetime.fromtimestamp(pub.signed_at, timezone.utc).strftime("%Y%m%d%H%M%S")
    r = run(["ldns-verify-zone", "-t", ts, path])
    assert r.returncode == 0, "ldns-verify-zone rejects serial %d:\n%s%s" % (
        pub.serial, r.stdout, r.stderr)


def sha1_ds(dnskey):
    """The SHA-1 DS rdata (RFC 4034 §5.1.4) of child.test.'s DNSKEY `dnskey` (text)."""
    rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY, dnskey)
    digest = hashlib.sha1(dns.name.from_text(ZONE).to_digestable() + rd.to_digestable())
    return "%d %d 1 %s" % (dns.dnssec.key_id(rd), rd.algorithm, digest.hexdigest())


# ---------------------------------------------------------------- the parent: NSD

class Parent:
    """NSD on 127.0.0.1 serving test. with the delegation of child.test. and its DS."""

    def __init__(self, workdir, ds=()):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "test.zone"
        self.serial = 1
        self.mtime = int(time.time())
        self._write(ds)
        self.nsd = Nsd(self.dir, {PARENT: self.path})
        self.port = self.nsd.port

    def _write(self, ds):
        self.path.write_text(
            "$ORIGIN test.\n$TTL 3600\n"
            "@ IN SOA ns.test. hostmaster.test. %d 3600 900 604800 300\n"
            "@ IN NS ns.test.\nns IN A 127.0.0.1\n"
            "child IN NS ns1.example.net.\nchild IN NS ns2.example.net.\n%s"
            % (self.serial, "".join("child 3600 IN DS %s\n" % d for d in ds)))
        # NSD reads a zone file again when its mtime changed: make sure it did
        self.mtime += 1
        os.utime(self.path, (self.mtime, self.mtime))

    def served(self):
        r = query(self.port, ZONE, "DS", dnssec=False)
        return {rd for rrset in r.answer if rrset.rdtype == dns.rdatatype.DS for rd in rrset}

    def set_ds(self, ds):
        """Serve exactly the DS rdata `ds` (text) for child.test., and wait until NSD does."""
        self.serial += 1
        self._write(ds)
        want = {dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DS, d) for d in ds}
        last = [0.0]

        def done():
            if self.served() == want:
                return True
            if time.monotonic() - last[0] > 1.0:    # SIGHUP: NSD re-reads changed files
                self.nsd.proc.send_signal(signal.SIGHUP)
                last[0] = time.monotonic()
            return False
        wait_for(done, 20, "NSD on port %d to serve the new DS" % self.port, interval=0.05)

    def stop(self):
        self.nsd.stop()


# ---------------------------------------------------------------- the child: the daemon

class Child:
    """child.test. signed by zonekeeperd on a fake clock that keeps running across
    restarts (the next daemon starts where the last one's clock was, or later)."""

    def __init__(self, root, agents=(), policy=None, speed=SPEED):
        pol = dict(POLICY)
        pol.update(policy or {})
        self.s = Setup(root, [ZONE], pol)
        if agents:
            text = self.s.config.read_text()
            old = '{ name = "%s"; }' % ZONE
            assert old in text
            agents = ", ".join('"127.0.0.1@%d"' % p for p in agents)
            self.s.config.write_text(text.replace(
                old, '{ name = "%s"; parental_agents = [ %s ]; }' % (ZONE, agents)))
        self.s.write_zone(ZONE, child_zone(ZONE))
        self.speed = speed
        self.d = None
        self.start(T0)

    def start(self, at):
        self.sim_start, self.mono_start = int(at), time.monotonic()
        self.d = Daemon(self.s, env={"ZONEKEEPER_FAKE_TIME": "%d@%d" % (self.sim_start,
                                                                          self.speed)})
        try:
            self.d.wait_ready(30)
        except BaseException:
            self.d.close()
            raise

    def sim_now(self):
        """At least the daemon's clock (which started after we took mono_start)."""
        return self.sim_start + (time.monotonic() - self.mono_start) * self.speed

    def kill9_and_restart(self):
        self.d.kill9()
        self.d.close()
        self.start(int(self.sim_now()) + 1)

    def close(self):
        if self.d:
            self.d.close()

    # the API
    def keys(self):
        code, j = self.d.api("/v1/zones/%s/keys" % ZONE)
        assert code == 200 and j["status"] == "ok", (code, j)
        return j

    def key(self, tag, view=None):
        ks = [k for k in (view or self.keys())["keys"] if k["tag"] == tag]
        return ks[0] if ks else None

    def wait_keys(self, pred, timeout, what):
        return wait_for(lambda: (lambda j: j if pred(j) else None)(self.keys()), timeout, what)

    def ds(self, digest=None):
        code, j = self.d.api("/v1/zones/%s/ds%s"
                             % (ZONE, "?digest=%d" % digest if digest else ""))
        assert code == 200 and j["status"] == "ok", (code, j)
        return j["ds"]

    def ds_rdata(self, digest=None):
        """The DS the daemon asks for, as rdata text (from the zone-file lines it gives)."""
        out = []
        for d in self.ds(digest):
            f = d["record"].split("\t")
            assert f[0] == ZONE and f[2:4] == ["IN", "DS"], d
            assert f[4] == "%d %d %d %s" % (d["tag"], d["algorithm"], d["digest_type"],
                                            d["digest"]), d
            out.append(f[4])
        return out

    def rollover(self, kind):
        code, j = self.d.api("/v1/zones/%s/keys/rollover" % ZONE, "POST",
                             json.dumps({"type": kind, "now": True}))
        assert code == 200 and j["status"] == "ok", (code, j)
        return j

    def ds_seen(self, tag, withdrawn=False):
        return self.d.api("/v1/zones/%s/keys/%d/ds-seen" % (ZONE, tag), "POST",
                          json.dumps({"withdrawn": withdrawn}))

    def published(self):
        return Published(self.s.output_file(ZONE))

    def wait_published(self, pred, timeout, what):
        return wait_for(lambda: (lambda p: p if pred(p) else None)(self.published()), timeout,
                        what)

    def keyring(self):
        """The key states file: tag -> its fields (ds_published, ds_withdrawn, states)."""
        out = {}
        for line in (self.s.state / "zones" / ZONE.rstrip(".") / "keyring").read_text() \
                .splitlines():
            f = line.split()
            if f and f[0] == "key":
                e = {"role": f[3], "ds_published": int(f[7]), "ds_withdrawn": int(f[8])}
                for rec in f[9:]:
                    name, _, st = rec.partition("=")
                    e[name] = (st[0], int(st[2:]))
                out[int(f[2])] = e
        return out

    def key_files(self):
        """(tag, role, archived) of every key ever generated: keys/ and keys/archive/."""
        kd = self.s.key_dir(ZONE)
        out = {}
        # keys/ first: a key the daemon archives meanwhile is then seen twice, never missed
        for p in list(kd.glob("K*.key")) + list((kd / "archive").glob("K*.key")):
            try:
                text = p.read_text()
            except FileNotFoundError:
                continue        # moved to the archive since: listed from there
            rec = [l for l in text.splitlines() if l and not l.startswith(";")]
            flags = int(rec[0].split("DNSKEY")[1].split()[0])
            out[int(p.name.split("+")[2].split(".")[0])] = (
                "KSK" if flags & 1 else "ZSK", p.parent.name == "archive")
        return [(tag, role, arch) for tag, (role, arch) in sorted(out.items())]


class Soft:
    """Checks that do not stop the test: the rest still runs, and done() reports them all."""

    def __init__(self):
        self.failed = []

    def check(self, what, ok, detail=""):
        if not ok:
            self.failed.append("%s: %s" % (what, detail))

    def equal(self, what, got, want):
        self.check(what, got == want, "got %r, want %r" % (got, want))

    def done(self):
        assert not self.failed, "\n".join(self.failed)


def roles(view, role):
    return [k for k in view["keys"] if k["role"] == role]


def only_one(env, role):
    j = env.wait_keys(lambda j: len(roles(j, role)) == 1, 20, "one %s" % role)
    return roles(j, role)[0]["tag"]


@pytest.fixture
def parent(tmp_path):
    p = Parent(tmp_path / "parent")
    yield p
    p.stop()


@pytest.fixture
def cleanup():
    """Objects with close()/stop() to end whatever happens, last made first."""
    things = []
    yield things
    for t in reversed(things):
        (getattr(t, "close", None) or t.stop)()


def waiting_for(tag):
    return "waiting for DS %d at the parent" % tag


def archived(env, tag):
    kd = env.s.key_dir(ZONE)
    return (not list(kd.glob("K*+%05d.*" % tag)) and
            {p.suffix for p in (kd / "archive").glob("K*+%05d.*" % tag)} >= {".key", ".private"})


# ---------------------------------------------------------------- 1. the parent decides

def test_ksk_rollover_waits_for_the_parent_then_finishes(tmp_path, parent, cleanup):
    env = Child(tmp_path / "child", agents=[parent.port])
    cleanup.append(env)
    k1 = only_one(env, "KSK")
    # the first DS goes to the parent; the agent sees it
    parent.set_ds(env.ds_rdata())
    env.wait_keys(lambda j: env.key(k1, j)["ds"] == "omnipresent" and not j["waiting"], 30,
                  "the first DS to be seen at the parent")
    assert env.keyring()[k1]["ds_published"] > 0

    j = env.rollover("ksk")
    assert isinstance(j["serial"], int)
    new = [k for k in roles(j, "KSK") if k["tag"] != k1]
    assert len(new) == 1, j
    k2 = new[0]["tag"]
    assert env.key(k1, j)["goal"] == "leaving" and new[0]["goal"] == "in zone", j
    j = env.wait_keys(lambda j: env.key(k2, j)["waiting"] == waiting_for(k2), 30,
                      waiting_for(k2))
    # what the zone waits for is the new DS (the old one's withdrawal is no step of its own):
    # the daemon's log says so, GET keys and `zonekeeper keys` must say the same
    assert "%s: %s" % (ZONE, waiting_for(k2)) in env.d.log_text()
    status = Soft()
    status.equal("the waiting reason of GET keys", j["waiting"], waiting_for(k2))
    # the new DS is asked for, the old one's CDS is gone (the parent may drop it)
    p = env.wait_published(lambda p: p.cds == {k2}, 30, "CDS of the new KSK only")
    assert p.cdnskey == {k2}, p.text
    t_asked = p.signed_at
    cli = zk("keys", ZONE, "--socket", env.s.api_socket)
    assert cli.returncode == 0, cli.stderr
    assert "next key event: " in cli.stdout, cli.stdout
    status.check("`zonekeeper keys` shows %r" % waiting_for(k2), waiting_for(k2) in cli.stdout,
                 cli.stdout)
    # while it waits, the daemon asks the parent again at ds_check_interval
    metrics = Client(env.s.api_socket).get("/metrics")
    assert metrics.status == 200
    m = re.search(r'^zonekeeper_zone_next_key_event_timestamp_seconds\{zone="%s"\} (\S+)$'
                  % re.escape(ZONE), metrics.text, re.M)
    assert m and float(m.group(1)) > t_asked, metrics.text

    # a month with the parent unchanged: nothing moves, whatever the clock says
    versions = set()

    def a_month_later():
        p = env.published()
        assert p.ksks() == {k1, k2}, p.text
        assert k1 in p.dnskey_signers, p.text      # the old KSK still signs the DNSKEY set
        assert p.cds == {k2} and p.cdnskey == {k2}, p.text
        versions.add(p.serial)
        j = env.keys()
        assert env.key(k2, j)["waiting"] == waiting_for(k2), j
        assert j["waiting"] in (waiting_for(k2), "waiting for DS %d to leave the parent" % k1)
        assert env.key(k2, j)["ds"] == "rumoured", j
        assert env.key(k1, j)["ds"] == "unretentive" and env.key(k1, j)["dnskey"] == \
            "omnipresent", j
        assert j["parent_error"] is None, j
        return p.signed_at >= t_asked + 30 * DAY
    wait_for(a_month_later, 30 * DAY / SPEED + 30, "30 simulated days", interval=0.25)
    assert len(versions) > 10, "the zone was re-signed only %d times in a month" % len(versions)
    ring = env.keyring()
    assert ring[k2]["ds_published"] == 0 and ring[k1]["ds_withdrawn"] == 0, ring

    # the parent swaps the DS: the rollover finishes
    t_change = env.published().signed_at
    parent.set_ds(env.ds_rdata())
    assert [d["tag"] for d in env.ds()] == [k2]
    seen = []

    def finished():
        p = env.published()
        seen.append((p.signed_at, k1 in p.dnskeys))
        j = env.keys()
        return (env.key(k1, j) is None and k1 not in p.dnskeys and
                env.key(k2, j)["ds"] == "omnipresent" and not j["waiting"] and p)
    p = wait_for(finished, 30, "the old KSK to leave", interval=0.02)
    ring = env.keyring()
    seen_at = ring[k2]["ds_published"]
    assert seen_at >= t_change, "DS %d counted before the parent served it" % k2
    # the old DNSKEY stays until the new DS is in every cache, whatever it was seen at
    earliest = seen_at + DS_TTL + DPRP_PARENT + RETIRE_SAFETY
    early = [t for t, present in seen if t < earliest and not present]
    assert not early, "old KSK gone at %s, before %d" % (early, earliest)
    assert min(t for t, present in seen if not present) >= earliest
    assert p.ksks() == {k2} and p.dnskey_signers == {k2} and p.cds == {k2}, p.text
    assert len(p.zsks()) == 1
    wait_for(lambda: archived(env, k1), 10, "the old KSK's files in the archive")
    ldns_verify(p, tmp_path)
    status.done()


# ---------------------------------------------------------------- 2. every agent must agree

def test_parent_with_the_new_ds_on_one_of_two_agents_stalls(tmp_path, cleanup):
    a = Parent(tmp_path / "agent-a")
    cleanup.append(a)
    b = Parent(tmp_path / "agent-b")
    cleanup.append(b)
    env = Child(tmp_path / "child", agents=[a.port, b.port])
    cleanup.append(env)
    k1 = only_one(env, "KSK")
    a.set_ds(env.ds_rdata())
    # one agent is not enough, even for the first DS
    env.wait_published(lambda p: p.signed_at > T0 + 4 * DAY, 10, "4 simulated days")
    j = env.keys()
    assert env.key(k1, j)["ds"] == "rumoured" and env.key(k1, j)["waiting"] == waiting_for(k1), j
    # agent B has it as SHA-1 (which zonekeeper never makes, but a parent may serve)
    p = env.published()
    dnskey = [l.split(None, 4)[4] for l in p.text.splitlines()
              if "\tDNSKEY\t257 " in l and l.startswith(ZONE)]
    sha1 = [sha1_ds(k) for k in dnskey]
    assert [int(d.split()[0]) for d in sha1] == [k1]
    b.set_ds(sha1)
    env.wait_keys(lambda j: env.key(k1, j)["ds"] == "omnipresent", 30,
                  "the first DS to be seen at both agents")

    j = env.rollover("ksk")
    k2 = [k["tag"] for k in roles(j, "KSK") if k["tag"] != k1][0]
    env.wait_published(lambda p: p.cds == {k2}, 30, "CDS of the new KSK only")
    new = env.ds_rdata()
    # agent A swaps the DS; agent B keeps the old one and adds one with the new key's tag,
    # algorithm and digest type but another digest: not the new key's DS
    a.set_ds(new)
    tag, alg, dt, digest = new[0].split()
    bogus = "%s %s %s %s" % (tag, alg, dt, digest[:-4] + ("0000" if digest[-4:] != "0000"
                                                          else "1111"))
    b.set_ds(sha1 + [bogus])
    t_a = env.published().signed_at

    def ten_days_later():
        p = env.published()
        assert p.ksks() == {k1, k2} and k1 in p.dnskey_signers, p.text
        j = env.keys()
        assert env.key(k2, j)["ds"] == "rumoured", j
        assert env.key(k2, j)["waiting"] == waiting_for(k2), j
        assert env.key(k1, j)["ds"] == "unretentive", j
        assert j["parent_error"] is None, j
        return p.signed_at >= t_a + 10 * DAY
    wait_for(ten_days_later, 10 * DAY / SPEED + 30, "10 simulated days", interval=0.25)
    ring = env.keyring()
    # neither "published" (B has no DS of the new key) nor "withdrawn" (B still has the old)
    assert ring[k2]["ds_published"] == 0 and ring[k1]["ds_withdrawn"] == 0, ring

    # agent B swaps too, with a SHA-384 DS: the rollover ends
    t_b = env.published().signed_at
    b.set_ds(env.ds_rdata(digest=4))
    j = env.wait_keys(lambda j: env.key(k1, j) is None, 30, "the old KSK to leave")
    assert env.key(k2, j)["ds"] == "omnipresent" and not j["waiting"], j
    p = env.wait_published(lambda p: p.ksks() == {k2}, 10, "the old DNSKEY out of the zone")
    assert p.dnskey_signers == {k2} and p.cds == {k2}, p.text
    assert env.keyring()[k2]["ds_published"] >= t_b


# ---------------------------------------------------------------- 3. no answer, no move

def test_parent_unreachable_is_reported(tmp_path, parent, cleanup):
    env = Child(tmp_path / "child", agents=[parent.port])
    cleanup.append(env)
    k1 = only_one(env, "KSK")
    parent.set_ds(env.ds_rdata())
    env.wait_keys(lambda j: env.key(k1, j)["ds"] == "omnipresent", 30, "the first DS seen")
    # the parent's server goes away: nothing listens at its address any more
    parent.stop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", parent.port))
    agent = "127.0.0.1@%d" % parent.port
    j = env.rollover("ksk")
    k2 = [k["tag"] for k in roles(j, "KSK") if k["tag"] != k1][0]
    j = env.wait_keys(lambda j: agent in (j.get("parent_error") or ""), 30, "the parent error")
    assert "no answer" in j["parent_error"], j
    cli = zk("keys", ZONE, "--socket", env.s.api_socket)
    assert cli.returncode == 0 and agent in cli.stdout, cli.stdout + cli.stderr
    t_err = env.published().signed_at

    def days_later():
        p = env.published()
        assert p.ksks() == {k1, k2} and k1 in p.dnskey_signers, p.text
        j = env.keys()
        # no answer is neither "published" nor "withdrawn"
        assert env.key(k1, j)["ds"] == "unretentive" and env.key(k2, j)["ds"] in (
            "hidden", "rumoured"), j
        assert agent in (j.get("parent_error") or ""), j
        return p.signed_at >= t_err + 5 * DAY and env.key(k2, j)["ds"] == "rumoured"
    wait_for(days_later, 5 * DAY / SPEED + 30, "5 simulated days", interval=0.25)
    ring = env.keyring()
    assert ring[k2]["ds_published"] == 0 and ring[k1]["ds_withdrawn"] == 0, ring
    assert env.key(k2)["waiting"] == waiting_for(k2)
    assert "cannot check the DS at the parent: parental agent %s" % agent in env.d.log_text()


def test_a_dead_agent_never_holds_up_signing(tmp_path, cleanup):
    """An agent that swallows queries costs its own timeouts (2 x 2 s per check), on the
    check's thread: record writes keep being published meanwhile."""
    hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never read: no ICMP
    hole.bind(("127.0.0.1", 0))
    cleanup.append(hole)
    port = hole.getsockname()[1]
    env = Child(tmp_path / "child", agents=[port])
    cleanup.append(env)
    k1 = only_one(env, "KSK")
    agent = "127.0.0.1@%d" % port
    # the first DS is asked for; the agent is asked every 12 simulated hours (0.25 s here),
    # each check then taking 4 s: one is in progress nearly all the time
    j = env.wait_keys(lambda j: "no answer within 2000 ms" in (j.get("parent_error") or ""), 60,
                      "a check that timed out")
    assert agent in j["parent_error"] and env.key(k1, j)["ds"] == "rumoured", j
    for i in range(3):
        t = time.monotonic()
        code, body = env.d.api("/v1/zones/%s/records?wait=published" % ZONE, "POST",
                               json.dumps({"name": "w%d" % i, "type": "A",
                                           "content": "192.0.2.%d" % (i + 1)}))
        took = time.monotonic() - t
        assert code == 201, body
        # a signing run held up by the check would wait for its 4 s
        assert took < 2.0, "publication took %.1f s while the agent was dead" % took
    assert "w2.%s\t" % ZONE in env.published().text


# ---------------------------------------------------------------- 4. the operator decides

def test_ds_seen_by_the_operator(tmp_path, cleanup):
    env = Child(tmp_path / "child")
    cleanup.append(env)
    sock = str(env.s.api_socket)
    k1 = only_one(env, "KSK")
    z1 = only_one(env, "ZSK")
    env.wait_keys(lambda j: j["waiting"] == waiting_for(k1), 20, waiting_for(k1))
    p = zk("key", "ds-seen", ZONE, str(k1), "--socket", sock)
    assert p.returncode == 0, p.stdout + p.stderr
    env.wait_keys(lambda j: env.key(k1, j)["ds"] == "omnipresent" and not j["waiting"], 20,
                  "the first DS in place")

    p = zk("key", "rollover", ZONE, "--type", "ksk", "--now", "--socket", sock)
    assert p.returncode == 0, p.stdout + p.stderr
    j = env.keys()
    k2 = [k["tag"] for k in roles(j, "KSK") if k["tag"] != k1][0]
    assert str(k2) in p.stdout, p.stdout
    env.wait_keys(lambda j: env.key(k2, j)["waiting"] == waiting_for(k2), 20, waiting_for(k2))
    t = env.published().signed_at
    env.wait_published(lambda p: p.signed_at > t + 5 * DAY, 10, "5 simulated days")
    j = env.keys()
    assert env.key(k2, j)["ds"] == "rumoured" and env.key(k1, j)["dnskey"] == "omnipresent", j
    assert env.published().ksks() == {k1, k2}

    # refused: a key whose DS waits for something else, a ZSK, an unknown tag
    for tag, extra, msg in ((k1, (), "key %d is waiting for DS %d to leave the parent" % (k1, k1)),
                            (k2, ("--withdrawn",), "key %d is %s" % (k2, waiting_for(k2))),
                            (z1, (), "no key-signing key with tag %d" % z1)):
        p = zk("key", "ds-seen", ZONE, str(tag), *extra, "--socket", sock)
        assert p.returncode == 3, (tag, p.returncode, p.stdout, p.stderr)
        assert msg in p.stderr, (msg, p.stderr)
    code, j = env.ds_seen(k1)
    assert code == 409 and j["error"]["code"] == "CONFLICT", (code, j)
    assert j["error"]["message"].startswith("not possible in the current state: key %d is "
                                            "waiting for DS" % k1), j

    p = zk("key", "ds-seen", ZONE, str(k2), "--socket", sock)
    assert p.returncode == 0, p.stdout + p.stderr
    j = env.wait_keys(lambda j: env.key(k2, j)["ds"] == "omnipresent", 20, "the new DS in place")
    # the old DNSKEY leaves; its entry stays until the operator says its DS is gone too
    j = env.wait_keys(lambda j: env.key(k1, j)["dnskey"] in ("unretentive", "hidden"), 20,
                      "the old DNSKEY to leave")
    p = env.wait_published(lambda p: p.ksks() == {k2}, 10, "the old DNSKEY out of the zone")
    assert p.dnskey_signers == {k2} and p.cds == {k2}, p.text
    t = p.signed_at
    env.wait_published(lambda p: p.signed_at > t + 5 * DAY, 10, "5 simulated days")
    j = env.keys()
    assert env.key(k1, j)["ds"] == "unretentive", j
    assert j["waiting"] == "waiting for DS %d to leave the parent" % k1, j
    assert not archived(env, k1)

    p = zk("key", "ds-seen", ZONE, str(k1), "--withdrawn", "--socket", sock)
    assert p.returncode == 0, p.stdout + p.stderr
    j = env.wait_keys(lambda j: env.key(k1, j) is None, 20, "the old KSK's entry to leave")
    assert not j["waiting"] and [k["tag"] for k in j["keys"]] == [z1, k2], j
    wait_for(lambda: archived(env, k1), 10, "the old KSK's files in the archive")
    p = zk("key", "ds-seen", ZONE, str(k1), "--withdrawn", "--socket", sock)
    assert p.returncode == 3 and "no key-signing key with tag %d" % k1 in p.stderr, p.stderr


# ---------------------------------------------------------------- 5. kill -9 anywhere

RECORDS = ("dnskey", "krrsig", "zrrsig", "ds")
WAIT_RE = re.compile(r"^waiting for DS (\d+) (at the parent|to leave the parent)$")


class Script:
    """The operator's side of a ZSK rollover then a KSK rollover (DS confirmed with
    ds-seen), driven by what the daemon shows, so that it can pick up after a crash at any
    point: each step is taken when the states ask for it and not yet done (a rollover is
    asked for once the key files show no successor of that role yet)."""

    def __init__(self, env, rng=None, max_kills=8):
        self.env, self.rng, self.max_kills = env, rng, max_kills
        self.kills = self.mid_rollover = self.unsaved = 0
        # (where, serial) in the order seen, from the API and from the published file
        self.serials = {"api": [], "file": []}

    def note_serial(self, where):
        if self.env.d.proc.poll() is None:
            self.serials["api"].append((where, self.env.d.zone(ZONE)["serial"]))
        self.serials["file"].append((where, self.env.published().serial))

    def next_step(self, j):
        files = Counter(role for _, role, _ in self.env.key_files())
        ksk, zsk = roles(j, "KSK"), roles(j, "ZSK")
        settled = all(k["waiting"] is None and k["goal"] == "in zone" and
                      all(k[r] in (None, "omnipresent") for r in RECORDS) for k in j["keys"])
        if files == {"KSK": 2, "ZSK": 2} and len(ksk) == 1 and len(zsk) == 1 and settled:
            return "done"
        reasons = [WAIT_RE.match(k["waiting"]) for k in j["keys"] if k["waiting"]]
        for published in (True, False):
            for m in reasons:
                if m and (m.group(2) == "at the parent") == published:
                    return ("/v1/zones/%s/keys/%s/ds-seen" % (ZONE, m.group(1)),
                            {"withdrawn": not published})
        if files["ZSK"] == 1 and settled:
            return ("/v1/zones/%s/keys/rollover" % ZONE, {"type": "zsk", "now": True})
        if files == {"KSK": 1, "ZSK": 2} and settled:
            return ("/v1/zones/%s/keys/rollover" % ZONE, {"type": "ksk", "now": True})
        return None

    def request(self, path, body):
        """The step; with a random generator, killed at a random point of it or after."""
        env = self.env
        if not self.rng or self.kills >= self.max_kills:
            code, j = env.d.api(path, "POST", json.dumps(body))
            assert code == 200, (path, body, code, j)
            return
        curl = subprocess.Popen(["curl", "-s", "--max-time", "10", "--unix-socket",
                                 str(env.s.api_socket), "-X", "POST", "-H",
                                 "Content-Type: application/json", "--data-binary",
                                 json.dumps(body), "http://zonekeeper" + path],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # half of the time while the run it starts is at work, else some time later
            time.sleep(self.rng.uniform(0.0, 0.04) if self.rng.random() < 0.5
                       else self.rng.uniform(0.04, 0.5))
            self.kill()
        finally:
            if curl.poll() is None:
                curl.kill()
            curl.wait(timeout=10)

    def kill(self):
        env = self.env
        self.note_serial("before kill %d" % self.kills)
        env.d.kill9()
        ring = env.keyring()
        per_role = Counter(e["role"] for e in ring.values())
        unsaved = [t for t, _, arch in env.key_files() if not arch and t not in ring]
        self.mid_rollover += bool(unsaved or max(per_role.values()) > 1)
        self.unsaved += bool(unsaved)   # a successor on disk that the key states do not name yet
        self.kills += 1
        env.kill9_and_restart()
        self.note_serial("after restart %d" % self.kills)

    def run(self, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            j = self.env.keys()
            self.note_serial("step")
            step = self.next_step(j)
            if step == "done":
                self.note_serial("end")
                return j
            if step:
                self.request(*step)
            elif self.rng and self.kills < self.max_kills and self.rng.random() < 0.1:
                time.sleep(self.rng.uniform(0.0, 0.3))
                self.kill()           # while the rollover waits for its time
            else:
                time.sleep(0.05)
        raise AssertionError("the scripted rollover did not finish in %ds: %s"
                             % (timeout, self.env.keys()))


def scripted_rollover(root, rng=None):
    env = Child(root)
    try:
        s = Script(env, rng)
        j = s.run()
        p = env.published()
        final = sorted((k["role"], k["algorithm"], k["state"], k["goal"], k["dnskey"],
                        k["krrsig"], k["zrrsig"], k["ds"], k["waiting"]) for k in j["keys"])
        files = env.key_files()
        ldns_verify(p, root)
        assert p.ksks() == {k["tag"] for k in roles(j, "KSK")} and \
            p.zsks() == {k["tag"] for k in roles(j, "ZSK")}, p.text
        assert p.dnskey_signers == p.ksks() and p.cds == p.ksks(), p.text
        for seen in s.serials.values():
            serials = [v for _, v in seen]
            assert serials == sorted(serials), "a serial went back: %s" % seen
        return {"final": final, "files": len(files),
                "roles": sorted(Counter((role, arch) for _, role, arch in files).items()),
                "kills": s.kills, "mid_rollover": s.mid_rollover, "unsaved": s.unsaved}
    finally:
        env.close()


def test_kill9_during_rollover_reaches_the_same_end_state(tmp_path):
    calm = scripted_rollover(tmp_path / "calm")
    assert calm["kills"] == 0
    assert calm["files"] == 4 and calm["roles"] == [(("KSK", False), 1), (("KSK", True), 1),
                                                    (("ZSK", False), 1), (("ZSK", True), 1)]
    assert [f[:2] for f in calm["final"]] == [("KSK", "ECDSAP256SHA256"),
                                              ("ZSK", "ECDSAP256SHA256")]
    crashed = scripted_rollover(tmp_path / "crashed", random.Random(20261127))
    print("kills: %d, %d of them during a rollover" % (crashed["kills"], crashed["mid_rollover"]))
    assert crashed["kills"] >= 4 and crashed["mid_rollover"] >= 2, crashed
    # no key generated twice, and the same end
    for k in ("files", "roles", "final"):
        assert crashed[k] == calm[k], (k, crashed[k], calm[k])


def zsk_signatures_per_rrset(text, owner):
    """How many RRSIGs cover `owner`'s A RRset in a signed zone file."""
    return len(re.findall(r"^%s\s+\d+\s+IN\s+RRSIG\s+A\s" % re.escape(owner), text, re.M))


def test_a_young_zones_zsk_rollover_waits_and_never_doubles_signatures(tmp_path):
    """A ZSK rollover asked for minutes after the zone was first signed waits until the
    first ZSK's signatures are in every cache (said in the keys view and the zone's
    status, a second request refused), then goes by pre-publication: no published version
    carries two signatures on an RRset. With "now": true it starts at once, and then both
    keys sign."""
    young, urgent = "young.test.", "urgent.test."
    s = Setup(tmp_path, [young, urgent], POLICY)
    for z in (young, urgent):
        s.write_zone(z, "$ORIGIN %s\n$TTL 300\n@ IN SOA ns1 h 1 1h 15m 1d 300\n"
                        "@ IN NS ns1.platform.example.\nwww IN A 192.0.2.1\n" % z)
    d = Daemon(s, env={"ZONEKEEPER_FAKE_TIME": "%d@%d" % (T0, 6 * HOUR)})
    try:
        d.wait_ready()
        for z, body in ((young, '{"type":"zsk"}'), (urgent, '{"type":"zsk","now":true}')):
            code, j = d.api("/v1/zones/%s/keys/rollover" % z, "POST", body)
            assert code == 200, j
        assert j["rollovers_pending"] == [], j
        assert zsk_signatures_per_rrset(s.output_file(urgent).read_text(),
                                        "www." + urgent) == 2
        code, j = d.api("/v1/zones/%s/keys" % young)
        assert j["rollovers_pending"] == ["ZSK"], j
        assert j["waiting"].startswith("ZSK rollover asked for: starts once the zone's keys "), j
        assert len([k for k in j["keys"] if k["role"] == "ZSK"]) == 1, j
        assert d.zone(young)["keys_waiting"] == j["waiting"]
        code, e = d.api("/v1/zones/%s/keys/rollover" % young, "POST", '{"type":"zsk"}')
        assert code == 409 and "already asked for" in e["error"]["message"], e
        # every version published until the old ZSK is gone: one signature per RRset
        seen, tags = set(), set()

        def done():
            text = s.output_file(young).read_text()
            if text not in seen:
                seen.add(text)
                assert zsk_signatures_per_rrset(text, "www." + young) == 1, text
            keys = d.api("/v1/zones/%s/keys" % young)[1]
            zsks = [k["tag"] for k in keys["keys"] if k["role"] == "ZSK"]
            tags.update(zsks)
            return len(tags) == 2 and len(zsks) == 1 and not keys["rollovers_pending"]
        wait_for(done, 90, "the rollover through and the old ZSK gone", interval=0.05)
        assert len(seen) >= 3, len(seen)
    finally:
        d.close()
