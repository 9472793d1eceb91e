# SPDX-License-Identifier: MIT
"""Zones as data through the API (doc/api.md, Zones as data), against a real zonekeeperd:
POST /v1/zones (plain, from zone-file text, from records; what is stripped, what is
refused and that a refusal leaves nothing behind), the published and validated first
version with ?wait=published, persistence across restarts (the zone registry, including
a torn and a damaged registry), DELETE with its archive and restore with the same keys,
DS_AT_PARENT on a fake clock and the insecure path out, PUT of the policy, archive_days,
paging and filtering of GET /v1/zones, and the RFC 9432 catalog zone consumed by Knot."""
import json
import re
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import dns.dnssec
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from zktest.daemon import Daemon, wait_for
from zktest.servers import Server, prepare, query
from zktest.tools import POLICY_DEFAULTS, Setup, ldns_verify, need, zk
from zktest.zones import SIMPLE

CONF = "example.com."                 # the zone of the configuration file
PLATFORM_NS = {"ns1.example.net.", "ns2.example.net."}
POLICIES = {"default": dict(POLICY_DEFAULTS),
            "other": dict(POLICY_DEFAULTS, denial='"nsec"')}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

# a key and a signature of another provider (valid shapes, not ours)
FOREIGN_KEY = ("BghXP9eRRkDHKnhdxMIrctvHGp0hFbn/ugNaEAoAHk639R65yBYVID5Cm8CX938Ep6bx/7VN/SBF0U"
               "MSlWDOlw==")
FOREIGN_SIG = ("mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1"
               "L53eKGQ==")
EXPORTED = """\
$ORIGIN {o}
$TTL 3600
@    IN SOA    ns.old-provider.example. hostmaster.old-provider.example. 7 7200 3600 1209600 3600
@    IN NS     ns1.example.net.
@    IN NS     ns.old-provider.example.
@    IN DNSKEY 257 3 13 %s
@    IN A      192.0.2.10
www  IN A      192.0.2.11
www  IN RRSIG  A 13 3 3600 20300101000000 20200101000000 12345 {o} %s
""" % (FOREIGN_KEY, FOREIGN_SIG)


# ------------------------------------------------------------------ helpers

class Env:
    """A Setup and the daemon running on it, restartable; every daemon started is closed."""

    def __init__(self, setup, env=None):
        self.s = setup
        self.env = env
        self.d = None

    def start(self):
        self.d = Daemon(self.s, env=self.env)
        try:
            self.d.wait_ready(30)
        except BaseException:
            self.d.close()
            self.d = None
            raise
        return self.d

    def stop(self):
        if self.d:
            self.d.close()
            self.d = None

    def restart(self):
        self.stop()
        return self.start()

    # the API, bodies as Python objects
    def api(self, path, method="GET", body=None):
        return self.d.api(path, method, None if body is None else
                          body if isinstance(body, str) else json.dumps(body))

    def create(self, body, wait=True):
        code, j = self.api("/v1/zones" + ("?wait=published" if wait else ""), "POST", body)
        assert code == 201 and j["status"] == "ok", (code, j)
        return j

    def names(self, query=""):
        code, j = self.api("/v1/zones" + query)
        assert code == 200 and j["status"] == "ok", (code, j)
        return [z["name"] for z in j["zones"]]

    def key_tags(self, zone):
        j = wait_for(lambda: (lambda r: r[1] if r[0] == 200 else None)(
            self.api("/v1/zones/%s/keys" % zone)), 20, "the keys of %s" % zone)
        return sorted(k["tag"] for k in j["keys"])

    def ds(self, zone):
        code, j = self.api("/v1/zones/%s/ds" % zone)
        assert code == 200, (code, j)
        return sorted(x["record"] for x in j["ds"])

    def user_records(self, zone):
        j = wait_for(lambda: (lambda r: r[1] if r[0] == 200 else None)(
            self.api("/v1/zones/%s/records" % zone)), 20, "the records of %s" % zone)
        return sorted((r["name"], r["type"], r["content"], r["ttl"])
                      for r in j["records"] if not r["system"])

    def registry(self):
        return (self.s.state / "zones.registry").read_bytes()


def refused(code_body, status, code):
    code_, j = code_body
    assert code_ == status and j["status"] == "error", code_body
    assert j["error"]["code"] == code, code_body
    return j["error"]["message"]


def records_of(path):
    """The records of a zone file as written by zonekeeper: (owner, ttl, type, rdata)."""
    rrs = []
    for line in Path(path).read_text().splitlines():
        if line.strip() and line[0] not in ";$":
            owner, ttl, _, rtype, rdata = line.split(None, 4)
            rrs.append((owner.lower(), int(ttl), rtype, rdata))
    return rrs


def published(path):
    """The header's serial of a signed file, and its records."""
    m = re.search(r"serial (\d+) signed by zonekeeper", Path(path).read_text())
    assert m, "no header in %s" % path
    return int(m.group(1)), records_of(path)


def of_type(rrs, rtype, owner=None):
    return [r for r in rrs if r[2] == rtype and (owner is None or r[0] == owner)]


def dnskey_tags(rrs, zone):
    return sorted(dns.dnssec.key_id(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY,
                                                        r[3]))
                  for r in of_type(rrs, "DNSKEY", zone))


def assert_valid(path, zone):
    p = zk("verify", "--origin", zone, path)
    assert p.returncode == 0, "zonekeeper verify rejects %s:\n%s%s" % (path, p.stdout, p.stderr)
    p = ldns_verify(path)
    assert p.returncode == 0, "ldns-verify-zone rejects %s:\n%s%s" % (path, p.stdout, p.stderr)


def unixtime(iso):
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


@pytest.fixture
def env(tmp_path):
    e = Env(Setup(tmp_path, [CONF], policies=POLICIES))
    e.s.write_zone(CONF, SIMPLE.format(origin=CONF))
    e.start()
    e.d.wait_zone(CONF, lambda z: z["serial"], what="first publication")
    yield e
    e.stop()


# ------------------------------------------------------------------ 1. create

def test_create_answers_201_with_an_api_zone(env):
    s = env.s
    j = env.create({"name": "plain.test.", "policy": "other"}, wait=False)
    z = j["zone"]
    assert z["name"] == "plain.test." and z["source"] == "api" and z["policy"] == "other", j
    assert z["state"] in ("pending", "ok"), j
    assert j["stripped"] == [], j
    assert env.api("/v1/zones/plain.test")[0] == 200
    assert "plain.test." in env.names()
    assert s.input_file("plain.test.").is_file()
    assert b'"plain.test."' in env.registry()
    z = env.d.wait_zone("plain.test.", lambda z: z["serial"] and z["state"] == "ok",
                        what="the first publication")
    assert z["source"] == "api" and env.d.zone(CONF)["source"] != "api"
    # the other policy is the one that signs: NSEC, not NSEC3
    _, rrs = published(s.output_file("plain.test."))
    assert of_type(rrs, "NSEC") and not of_type(rrs, "NSEC3"), rrs


def test_wait_published_gives_the_serial_the_ds_and_a_valid_zone(env):
    s = env.s
    z = "waited.test."
    j = env.create({"name": z})
    serial = j["zone"]["serial"]
    assert isinstance(serial, int) and serial > 0, j
    assert j["ds"] and all(d["record"].split("\t")[3] == "DS" for d in j["ds"]), j
    assert sorted(d["record"] for d in j["ds"]) == env.ds(z)   # as GET .../ds gives them
    path = s.output_file(z)
    head_serial, rrs = published(path)
    assert head_serial == serial
    assert of_type(rrs, "SOA", z)[0][3].split()[2] == str(serial)
    assert dnskey_tags(rrs, z) == env.key_tags(z)
    assert {r[3] for r in of_type(rrs, "NS", z)} == PLATFORM_NS
    assert_valid(path, z)


def test_create_from_zone_text_strips_soa_dnssec_and_platform_ns(env):
    s = env.s
    z = "moved.test."
    j = env.create({"name": z, "zone": EXPORTED.format(o=z)})
    by_type = {}
    for x in j["stripped"]:
        assert x["reason"] and x["count"] >= 1, x
        by_type.setdefault(x["type"], []).append(x)
    assert {"SOA", "DNSKEY", "RRSIG", "NS"} <= set(by_type), j["stripped"]
    assert any("platform" in x["reason"] and x["count"] == 1 for x in by_type["NS"]), by_type

    serial, rrs = published(s.output_file(z))
    assert serial == j["zone"]["serial"]
    soa = of_type(rrs, "SOA", z)
    assert len(soa) == 1, soa
    mname, _, soa_serial = soa[0][3].split()[:3]
    assert mname == "ns1.example.net." and int(soa_serial) == serial != 7, soa
    # our keys only: the foreign DNSKEY and RRSIG are gone
    assert dnskey_tags(rrs, z) == env.key_tags(z)
    assert FOREIGN_KEY not in s.output_file(z).read_text()
    assert not [r for r in of_type(rrs, "RRSIG") if r[3].split()[6] == "12345"]
    # the platform's NS only, the data kept
    assert {r[3] for r in of_type(rrs, "NS", z)} == PLATFORM_NS
    assert [r[3] for r in of_type(rrs, "A", "www." + z)] == ["192.0.2.11"]
    assert [r[3] for r in of_type(rrs, "A", z)] == ["192.0.2.10"]
    assert_valid(s.output_file(z), z)


def test_create_with_records_publishes_them(env):
    s = env.s
    z = "recs.test."
    recs = [{"name": "@", "type": "A", "content": "192.0.2.1", "ttl": 600},
            {"name": "www", "type": "AAAA", "content": "2001:db8::1", "ttl": 300},
            {"name": "@", "type": "MX", "content": "10 mail.recs.test.", "ttl": 3600},
            {"name": "mail.recs.test.", "type": "A", "content": "192.0.2.25", "ttl": 3600}]
    j = env.create({"name": z, "records": recs})
    assert j["stripped"] == [] and j["zone"]["serial"], j
    _, rrs = published(s.output_file(z))
    got = {(r[0], r[1], r[2], r[3]) for r in rrs}
    assert {(z, 600, "A", "192.0.2.1"), ("www." + z, 300, "AAAA", "2001:db8::1"),
            (z, 3600, "MX", "10 mail.recs.test."), ("mail." + z, 3600, "A", "192.0.2.25")} \
        <= got, rrs
    assert env.user_records(z) == sorted([
        (z, "A", "192.0.2.1", 600), ("www." + z, "AAAA", "2001:db8::1", 300),
        (z, "MX", "10 mail.recs.test.", 3600), ("mail." + z, "A", "192.0.2.25", 3600)])
    assert_valid(s.output_file(z), z)


@pytest.mark.parametrize("form", ["records", "zone"])
def test_create_needs_no_apex_record(env, form):
    """zonekeeper makes the apex (SOA, NS, keys): data below it is enough."""
    z = "below.test."
    body = {"name": z, "records": [{"name": "www", "type": "A", "content": "192.0.2.7",
                                    "ttl": 300}]} if form == "records" else \
        {"name": z, "zone": "$TTL 300\nwww IN A 192.0.2.7\n"}
    code, j = env.api("/v1/zones?wait=published", "POST", body)
    assert code == 201, (code, j)
    _, rrs = published(env.s.output_file(z))
    assert [(r[1], r[3]) for r in of_type(rrs, "A", "www." + z)] == [(300, "192.0.2.7")]


def test_create_with_records_ttl_is_optional(env):
    """A write body's ttl is optional: default 3600 for a new RRset (doc/api.md)."""
    z = "nottl.test."
    code, j = env.api("/v1/zones?wait=published", "POST",
                      {"name": z, "records": [{"name": "@", "type": "A", "content": "192.0.2.8"}]})
    assert code == 201, (code, j)
    _, rrs = published(env.s.output_file(z))
    assert [(r[1], r[3]) for r in of_type(rrs, "A", z)] == [(3600, "192.0.2.8")]


@pytest.mark.parametrize("form", ["records", "zone", "apex"])
def test_a_cname_conflict_creates_nothing(env, form):
    s = env.s
    z = "conflict.test."
    if form == "records":
        body = {"name": z, "records": [
            {"name": "@", "type": "A", "content": "192.0.2.1", "ttl": 300},
            {"name": "www", "type": "A", "content": "192.0.2.2", "ttl": 300},
            {"name": "www", "type": "CNAME", "content": "elsewhere.example.", "ttl": 300}]}
    elif form == "zone":
        body = {"name": z, "zone": "$TTL 300\n@ IN A 192.0.2.1\nwww IN A 192.0.2.2\n"
                                   "www IN CNAME elsewhere.example.\n"}
    else:
        body = {"name": z, "records": [{"name": "@", "type": "CNAME",
                                        "content": "elsewhere.example.", "ttl": 300}]}
    before, listed = env.registry(), env.names()
    refused(env.api("/v1/zones?wait=published", "POST", body), 409, "CNAME_CONFLICT")
    refused(env.api("/v1/zones/" + z), 404, "ZONE_NOT_FOUND")
    assert not s.input_file(z).exists() and not s.output_file(z).exists()
    assert not (s.state / "zones" / "conflict.test").exists()
    assert env.registry() == before and env.names() == listed
    # nothing left behind that would stand in the way of the same name
    env.create({"name": z})


def test_refused_creations(env):
    s = env.s
    env.create({"name": "made.test."}, wait=False)
    before, listed = env.registry(), env.names()
    post = lambda body: env.api("/v1/zones", "POST", body)   # noqa: E731

    for bad in ("bad..test.", "-" * 64 + ".test.", "a/b.test.", "../../etc."):
        refused(post({"name": bad}), 400, "INVALID_RECORD")
        refused(post({"name": bad, "records": [{"name": "@", "type": "A",
                                                "content": "192.0.2.1", "ttl": 1}]}),
                400, "INVALID_RECORD")
    msg = refused(post({"name": "nopolicy.test.", "policy": "nosuch"}), 400, "BAD_REQUEST")
    assert "nosuch" in msg
    for name in ("example.com", "EXAMPLE.COM.", "Example.Com", "made.test", "MADE.TEST.",
                 "made.test."):
        refused(post({"name": name}), 409, "ZONE_EXISTS")
        refused(post({"name": name, "zone": "$TTL 60\n@ IN A 192.0.2.1\n"}), 409,
                "ZONE_EXISTS")
    for content in ("192.0.2.1\n", "\"a\"\nb IN A 192.0.2.9", "\"a\"\r\n"):
        refused(post({"name": "newline.test.", "records": [
            {"name": "@", "type": "TXT" if "\"" in content else "A", "content": content,
             "ttl": 60}]}), 400, "INVALID_RECORD")
    refused(post("[1, 2]"), 400, "BAD_REQUEST")
    refused(post({"name": "both.test.", "zone": "", "records": []}), 400, "BAD_REQUEST")
    # none of these left anything
    assert env.registry() == before and env.names() == listed
    assert sorted(p.name for p in s.input.iterdir()) == ["example.com.zone", "made.test.zone"]


# ------------------------------------------------------------------ 2. persistence

def test_api_zones_and_their_policy_survive_a_restart(env):
    s = env.s
    env.create({"name": "p1.test."})
    env.create({"name": "p2.test.", "records": [
        {"name": "@", "type": "A", "content": "192.0.2.1", "ttl": 600},
        {"name": "www", "type": "TXT", "content": "\"kept across restarts\"", "ttl": 300}]})
    env.create({"name": "p3.test.", "zone": EXPORTED.format(o="p3.test.")})
    zones = ["p1.test.", "p2.test.", "p3.test."]

    # another policy for an API zone; refused for the file's zone
    code, j = env.api("/v1/zones/p3.test", "PUT", {"policy": "other"})
    assert code == 200 and j["zone"]["policy"] == "other", (code, j)
    assert env.d.zone("p3.test.")["policy"] == "other"
    refused(env.api("/v1/zones/" + CONF, "PUT", {"policy": "other"}), 409, "ZONE_IN_CONFIG")
    assert env.d.zone(CONF)["policy"] == "default"
    refused(env.api("/v1/zones/p1.test.", "PUT", {"policy": "nosuch"}), 400, "BAD_REQUEST")
    env.d.wait_zone("p3.test.", lambda z: z["state"] == "ok" and
                    of_type(published(s.output_file("p3.test."))[1], "NSEC"),
                    what="p3 signed under its new policy")

    before = {z: (env.d.zone(z)["serial"], env.key_tags(z), env.user_records(z))
              for z in zones}
    assert before["p2.test."][2] and before["p3.test."][2]
    assert (s.state / "zones.registry").is_file()

    env.restart()
    assert sorted(env.names()) == sorted(zones + [CONF])
    for z in zones:
        serial, tags, recs = before[z]
        now = env.d.wait_zone(z, lambda x: x["serial"], what="%s back" % z)
        assert now["serial"] >= serial and now["source"] == "api", (z, now, serial)
        assert env.key_tags(z) == tags, z
        assert env.user_records(z) == recs, z
    assert env.d.zone("p3.test.")["policy"] == "other"
    assert env.d.zone("p1.test.")["policy"] == "default"
    assert (s.state / "zones.registry").is_file()


def test_damaged_registry_lines_are_skipped_and_logged(env):
    env.create({"name": "g1.test."})
    env.create({"name": "g2.test."})
    env.stop()
    with open(env.s.state / "zones.registry", "a") as f:
        f.write("this line is not a registry entry\n")
        f.write('{"add": 17, "policy": null}\n')
    env.start()
    assert sorted(env.names()) == sorted([CONF, "g1.test.", "g2.test."])
    for z in ("g1.test.", "g2.test."):
        env.d.wait_zone(z, lambda x: x["serial"], what="%s back" % z)
    lines = [l for l in env.d.log_text().splitlines() if "damaged line" in l]
    assert lines and "zones.registry" in lines[-1] and "2 damaged line(s)" in lines[-1], lines


def test_a_torn_registry_line_is_ignored_and_later_zones_persist(env):
    """A crash in the middle of an append leaves half a line: it was never acknowledged
    and is ignored; the zones created after that start must still come back."""
    env.create({"name": "t1.test."})
    env.stop()
    with open(env.s.state / "zones.registry", "a") as f:
        f.write('{"add":"torn.test.","pol')
    env.start()
    assert sorted(env.names()) == sorted([CONF, "t1.test."])
    refused(env.api("/v1/zones/torn.test."), 404, "ZONE_NOT_FOUND")
    env.create({"name": "t2.test."})        # acknowledged: it must persist
    env.restart()
    assert sorted(env.names()) == sorted([CONF, "t1.test.", "t2.test."]), \
        "zones.registry:\n%s" % env.registry().decode(errors="replace")


# ------------------------------------------------------------------ 3. delete and restore

def test_delete_archives_and_restore_brings_back_the_same_keys(env):
    s = env.s
    z = "gone.test."
    env.create({"name": z, "records": [
        {"name": "@", "type": "A", "content": "192.0.2.1", "ttl": 600},
        {"name": "www", "type": "A", "content": "192.0.2.2", "ttl": 600}]})
    serial = published(s.output_file(z))[0]      # the last one published before the delete
    tags, ds, recs = env.key_tags(z), env.ds(z), env.user_records(z)
    assert tags and ds and recs
    assert s.output_file(z).exists() and s.input_file(z).exists()

    code, now = env.api("/v1/health")
    code, j = env.api("/v1/zones/gone.test", "DELETE")
    assert code == 200 and j["status"] == "ok" and j["zone"] == z, (code, j)
    assert ISO.match(j["purge_after"]), j
    assert abs(unixtime(j["purge_after"]) - (now["unixtime"] + 30 * 86400)) < 10, j
    archive = Path(j["archive"])
    assert archive.is_dir() and (s.state / "archive") in archive.parents, archive
    assert (archive / "input.zone").is_file() and (archive / "state").is_dir()
    assert (archive / "state" / "keys").is_dir()
    meta = json.loads((archive / "zone.json").read_text())
    assert meta["zone"] == z and meta["policy"] == "default", meta

    # gone: the signed file, the API, the input, the list, the registry
    assert not s.output_file(z).exists()
    assert not s.input_file(z).exists()
    refused(env.api("/v1/zones/" + z), 404, "ZONE_NOT_FOUND")
    refused(env.api("/v1/zones/" + z, "DELETE"), 404, "ZONE_NOT_FOUND")
    assert z not in env.names()
    refused(env.api("/v1/zones/never.test/restore", "POST"), 404, "ZONE_NOT_FOUND")

    # back, with the same keys (the DS at the parent still matches), published again
    code, j = env.api("/v1/zones/GONE.TEST/restore", "POST")
    assert code == 201 and j["status"] == "ok" and j["zone"]["name"] == z, (code, j)
    back = env.d.wait_zone(z, lambda x: x["serial"] and x["serial"] > serial and
                           x["state"] == "ok", what="republication after the restore")
    wait_for(lambda: s.output_file(z).exists(), 10, "the signed file back")
    assert published(s.output_file(z))[0] == back["serial"] > serial
    assert env.key_tags(z) == tags and env.ds(z) == ds
    assert env.user_records(z) == recs
    assert dnskey_tags(published(s.output_file(z))[1], z) == tags
    assert not archive.exists()       # the archive became the zone again
    assert z in env.names() and b'"gone.test."' in env.registry()
    refused(env.api("/v1/zones/gone.test./restore", "POST"), 409, "ZONE_EXISTS")

    # the file's zone stays, forced or not
    conf_before = s.output_file(CONF).read_bytes()
    refused(env.api("/v1/zones/" + CONF, "DELETE"), 409, "ZONE_IN_CONFIG")
    refused(env.api("/v1/zones/%s?force=true" % CONF, "DELETE"), 409, "ZONE_IN_CONFIG")
    assert env.api("/v1/zones/" + CONF)[0] == 200
    assert s.output_file(CONF).read_bytes() == conf_before


def test_a_zone_created_again_goes_on_from_the_deleted_zones_serial(env):
    """Deleted and created again under the same name: the new zone's first serial is
    greater than the last the old one published, so secondaries still holding the old
    zone take the new one (the same day's dateserial would otherwise start over)."""
    z = "twice.test."
    env.create({"name": z})
    code, j = env.api("/v1/zones/%s/records?wait=published" % z, "POST",
                      {"name": "www", "type": "A", "content": "192.0.2.5"})
    assert code == 201, (code, j)
    last = published(env.s.output_file(z))[0]
    code, j = env.api("/v1/zones/" + z, "DELETE")
    assert code == 200, (code, j)
    first = env.create({"name": z})["zone"]["serial"]
    assert first != last and (first - last) % 2**32 < 2**31, (last, first)


def test_a_zone_created_again_after_a_delete_can_be_deleted_again(tmp_path):
    """Created, deleted, created and deleted again in the same second (a frozen clock makes
    it deterministic): the second create is refused (an archive of that name exists), or
    the second delete archives it as the first did."""
    e = Env(Setup(tmp_path, [], policies=POLICIES),
            env={"ZONEKEEPER_FAKE_TIME": "1795737600@0"})
    e.start()
    try:
        z = "again.test."
        e.create({"name": z})
        code, j = e.api("/v1/zones/" + z, "DELETE")
        assert code == 200, (code, j)
        first = Path(j["archive"])
        code, j = e.api("/v1/zones?wait=published", "POST", {"name": z})
        if code == 409:
            assert j["error"]["code"] == "ZONE_EXISTS", j
            return
        assert code == 201, (code, j)
        code, j = e.api("/v1/zones/" + z, "DELETE")
        assert code == 200, (code, j)
        assert first.is_dir() and Path(j["archive"]).is_dir(), j
    finally:
        e.stop()


# fast key timings on a fake clock (as test_rollover_daemon.py): the DS is asked for within
# a real second
FAST = dict(POLICY_DEFAULTS, **{
    "ksk_lifetime": '"0"', "zsk_lifetime": '"0"', "max_zone_ttl": '"1h"',
    "rrsig_validity": '"4d"', "rrsig_refresh": '"2d"', "rrsig_jitter": '"12h"',
    "soa": '{ expire = "1d"; }', "dnskey_ttl": '"1h"', "propagation_delay": '"5m"',
    "publish_safety": '"1h"', "retire_safety": '"1h"', "parent_ds_ttl": '"2d"',
    "parent_propagation_delay": '"1h"', "ds_check_interval": '"12h"'})
T0 = 1795737600          # 2026-11-27T00:00:00Z
SPEED = 2 * 86400


def test_ds_at_parent_refuses_the_delete_until_insecure_or_forced(tmp_path):
    e = Env(Setup(tmp_path, [], policies={"default": FAST,
                                          "goaway": dict(FAST, insecure="true")}),
            env={"ZONEKEEPER_FAKE_TIME": "%d@%d" % (T0, SPEED)})
    e.start()
    try:
        def keys(z):
            code, j = e.api("/v1/zones/%s/keys" % z)
            return j if code == 200 else None

        def ksk_ds(z, want):
            return wait_for(lambda: (lambda j: j if j and [
                k for k in j["keys"] if k["role"] == "KSK" and k["ds"] == want] else None)(
                keys(z)), 20, "the DS of %s %s" % (z, want))

        zones = ("forced.test.", "insecure.test.")
        ksk = {}
        for z in zones:
            j = e.create({"name": z})
            ksk[z] = j["ds"][0]["tag"]
            wait_for(lambda: (keys(z) or {}).get("waiting") ==
                     "waiting for DS %d at the parent" % ksk[z], 20, "the DS asked for")
            code, j = e.api("/v1/zones/%s/keys/%d/ds-seen" % (z, ksk[z]), "POST", "{}")
            assert code == 200, (code, j)
            ksk_ds(z, "omnipresent")

        # the DS is at the parent: deleting would make the zone bogus
        for z in zones:
            msg = refused(e.api("/v1/zones/" + z, "DELETE"), 409, "DS_AT_PARENT")
            assert "insecure" in msg and str(ksk[z]) in msg, msg
            assert e.api("/v1/zones/" + z)[0] == 200 and e.s.output_file(z).exists()

        # forced: gone
        code, j = e.api("/v1/zones/forced.test.?force=true", "DELETE")
        assert code == 200 and j["archive"], (code, j)
        refused(e.api("/v1/zones/forced.test."), 404, "ZONE_NOT_FOUND")
        assert not e.s.output_file("forced.test.").exists()

        # the safe path: insecure policy, the DS leaves the parent, then the delete
        z = "insecure.test."
        code, j = e.api("/v1/zones/" + z, "PUT", {"policy": "goaway"})
        assert code == 200 and j["zone"]["policy"] == "goaway", (code, j)
        wait_for(lambda: (keys(z) or {}).get("waiting") ==
                 "waiting for DS %d to leave the parent" % ksk[z], 20, "the DS asked away")
        refused(e.api("/v1/zones/" + z, "DELETE"), 409, "DS_AT_PARENT")  # still in caches
        code, j = e.api("/v1/zones/%s/keys/%d/ds-seen" % (z, ksk[z]), "POST",
                        {"withdrawn": True})
        assert code == 200, (code, j)
        wait_for(lambda: (lambda j: j and all(k["ds"] in (None, "hidden")
                                              for k in j["keys"]))(keys(z)), 20,
                 "no DS left at the parent")
        code, j = e.api("/v1/zones/" + z, "DELETE")
        assert code == 200 and j["zone"] == z, (code, j)
        assert e.names() == []
    finally:
        e.stop()


# ------------------------------------------------------------------ 4. archive_days

def test_archives_outlive_a_restart_and_archive_days_0_purges_them(env):
    s = env.s
    z = "arch.test."
    env.create({"name": z})
    tags = env.key_tags(z)
    code, j = env.api("/v1/zones/" + z, "DELETE")
    assert code == 200, (code, j)

    # the default (30 days): still restorable after a restart
    env.restart()
    code, j = env.api("/v1/zones/%s/restore?wait=published" % z, "POST")
    assert code == 201 and j["zone"]["serial"], (code, j)
    assert env.key_tags(z) == tags
    code, j = env.api("/v1/zones/" + z, "DELETE")
    assert code == 200, (code, j)
    archive = Path(j["archive"])
    assert archive.is_dir()

    # archive_days = 0: purged at the next start
    env.stop()
    s.write_config([CONF], POLICIES,
                   'api = { socket = "%s"; };\narchive_days = 0;\n' % s.api_socket)
    env.start()
    assert not archive.exists()
    refused(env.api("/v1/zones/%s/restore" % z, "POST"), 404, "ZONE_NOT_FOUND")
    assert "older than 0 days removed" in env.d.log_text()
    # a delete now says the archive goes at once
    env.create({"name": "next.test."})
    code, now = env.api("/v1/health")
    code, j = env.api("/v1/zones/next.test.", "DELETE")
    assert code == 200 and abs(unixtime(j["purge_after"]) - now["unixtime"]) < 10, (code, j)


# ------------------------------------------------------------------ 5. list in pages

def test_list_pages_filters_and_refuses_bad_parameters(env):
    added = ["z1.test.", "z3.test.", "z5.test.", "z7.test.", "z9.test."]
    for z in added:
        env.create({"name": z}, wait=False)
    for z in added:
        env.d.wait_zone(z, lambda x: x["state"] == "ok", what="%s published" % z)
    every = sorted(added + [CONF])

    seen, after, pages = [], None, 0
    while True:
        code, j = env.api("/v1/zones?limit=2" + ("&after=" + after if after else ""))
        assert code == 200 and 0 < len(j["zones"]) <= 2, (code, j)
        seen += [z["name"] for z in j["zones"]]
        pages += 1
        after = j["next"]
        if after is None:
            break
        assert after == seen[-1] and pages < 10, j
    assert pages == 3 and sorted(seen) == every and len(seen) == len(every)

    # `after` need not be a zone: a name between two starts after it, in any spelling
    order = env.names("?limit=10000")
    assert sorted(order) == every
    for between in ("z4.test.", "z4.test", "Z4.TEST."):
        got = env.names("?after=" + between)
        assert got == order[order.index("z5.test."):], (between, got)
    assert env.names("?after=z9.test.") == order[order.index("z9.test.") + 1:]

    # filtered by state (a zone may be re-signing a moment: "signing" meanwhile)
    wait_for(lambda: sorted(env.names("?state=ok")) == every, 20, "every zone ok")
    code, j = env.api("/v1/zones?state=error")
    assert code == 200 and j["zones"] == [] and j["next"] is None, j
    assert env.names("?state=pending&limit=3") == []

    for q in ("limit=0", "limit=10001", "limit=abc", "limit=-1", "state=bogus",
              "state=OKAY", "limit=0&state=ok"):
        refused(env.api("/v1/zones?" + q), 400, "BAD_REQUEST")
    code, j = env.api("/v1/zones?limit=10000")
    assert code == 200 and len(j["zones"]) == len(every), j


# ------------------------------------------------------------------ 6. the catalog, in Knot

CATALOG = "catalog.invalid."


def catalog_members(path):
    """{member zone: group} of the catalog file, after checking its fixed records."""
    rrs = records_of(path)
    assert [r[3] for r in of_type(rrs, "TXT", "version." + CATALOG)] == ['"2"'], rrs
    assert len(of_type(rrs, "SOA", CATALOG)) == 1 and of_type(rrs, "NS", CATALOG), rrs
    ptr = {r[0]: r[3] for r in rrs if r[2] == "PTR"}
    for owner in ptr:
        assert re.match(r"^[0-9a-z]+\.zones\.%s$" % re.escape(CATALOG), owner), owner
    groups = {r[0][len("group."):]: r[3].strip('"') for r in rrs
              if r[2] == "TXT" and r[0].startswith("group.")}
    return {zone.lower(): groups.get(owner) for owner, zone in ptr.items()}


class CatalogKnot(Server):
    """Knot serving the catalog zone from our output directory (catalog-role interpret):
    its members come and go with the catalog, each loaded from <output_dir>/<zone>.zone."""

    def __init__(self, workdir, sockdir, output_dir):
        need("knotd")
        self.port, workdir = prepare(workdir)
        self.control = Path(sockdir) / "knot.sock"
        conf = workdir / "knot.conf"
        common = ('    storage: "{d}"\n    zonefile-sync: -1\n    zonefile-load: whole\n'
                  '    journal-content: none\n').format(d=workdir)
        conf.write_text(
            'server:\n  rundir: "{d}"\n  listen: 127.0.0.1@{port}\n'
            'control:\n  listen: "{sock}"\n'
            'database:\n  storage: "{d}"\n'
            'log:\n  - target: "{d}/knot.log"\n    any: info\n'
            'template:\n  - id: default\n{common}'
            '  - id: member\n{common}    file: "{out}/%s.zone"\n'
            'zone:\n  - domain: {cat}\n    file: "{out}/{catfile}.zone"\n'
            '    catalog-role: interpret\n    catalog-template: member\n'.format(
                d=workdir, port=self.port, sock=self.control, common=common, out=output_dir,
                cat=CATALOG, catfile=CATALOG.rstrip(".")))
        super().__init__(["knotd", "-c", conf], workdir, "knot")
        self.log_path = workdir / "knot.log"

    def soa(self, zone):
        return query(self.port, zone, "SOA", dnssec=True, tries=20)


def test_the_catalog_zone_drives_knot(tmp_path):
    need("knotd")
    need("knotc")
    knotc = shutil.which("knotc")
    sockdir = Path(tempfile.mkdtemp(prefix="zkknot-"))   # a short Unix socket path
    # the reload hook tells Knot about every publication: for the catalog it makes Knot
    # take in the new members (or drop the gone ones); for a member Knot does not know
    # yet it fails harmlessly (logged as a warning)
    s = Setup(tmp_path, [CONF], policies=POLICIES,
              extra='catalog = { name = "%s"; };\n'
                    'publish = { reload_command = "%s -s %s -t 5 zone-reload %%z"; '
                    'reload_timeout = "10s"; };' % (CATALOG, knotc, sockdir / "knot.sock"))
    s.write_zone(CONF, SIMPLE.format(origin=CONF))
    e = Env(s)
    knot = None
    try:
        e.start()
        e.d.wait_zone(CONF, lambda z: z["serial"], what="first publication")
        cat = s.output / (CATALOG.rstrip(".") + ".zone")
        wait_for(lambda: cat.exists() and catalog_members(cat) == {CONF: "default"}, 20,
                 "the catalog with the file's zone")

        knot = CatalogKnot(tmp_path / "knot", sockdir, s.output)

        def answers(zone):
            r = knot.soa(zone)
            sigs = [x for x in r.answer if x.rdtype == dns.rdatatype.RRSIG]
            return r if r.rcode() == dns.rcode.NOERROR and sigs else None

        wait_for(lambda: answers(CONF), 20, "Knot to serve %s from the catalog" % CONF)

        # a zone created through the API: in the catalog, then served by Knot, signed
        z = "cat.test."
        j = e.create({"name": z, "policy": "other"})
        serial = j["zone"]["serial"]
        wait_for(lambda: catalog_members(cat) == {CONF: "default", z: "other"}, 20,
                 "the new zone in the catalog")
        r = wait_for(lambda: answers(z), 20, "Knot to serve %s" % z)
        soa = [x for x in r.answer if x.rdtype == dns.rdatatype.SOA][0]
        assert soa[0].serial == serial, r
        rrsig = [x for x in r.answer if x.rdtype == dns.rdatatype.RRSIG][0]
        assert rrsig[0].key_tag in e.key_tags(z), r

        # its group follows its policy
        code, j = e.api("/v1/zones/" + z, "PUT", {"policy": "default"})
        assert code == 200, (code, j)
        wait_for(lambda: catalog_members(cat).get(z) == "default", 20, "the group changed")

        # deleted: out of the catalog, and Knot no longer serves it
        code, j = e.api("/v1/zones/" + z, "DELETE")
        assert code == 200, (code, j)
        wait_for(lambda: catalog_members(cat) == {CONF: "default"}, 20,
                 "the zone out of the catalog")
        r = wait_for(lambda: (lambda r: r if r.rcode() in (dns.rcode.REFUSED,
                                                           dns.rcode.NOTAUTH) else None)(
            knot.soa(z)), 20, "Knot to drop %s" % z)
        assert not r.answer, r
        assert answers(CONF), "Knot lost the file's zone"
    finally:
        if knot:
            knot.stop()
        e.stop()
        shutil.rmtree(sockdir, ignore_errors=True)
