# SPDX-License-Identifier: MIT
"""The record API (doc/api.md, invariant 19) from the outside: zonekeeperd started as a
process, requests made with curl over its Unix socket (and its TCP listener), results read
back from the published signed file. Every refusal has the one error shape and changes
nothing: not the published bytes, not the serial, not the input file, not the listing."""
import base64
import json
import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from zktest.api import (Client, Snapshot, assert_error, assert_record_shape, canon, covered, find,
                        gt, set_api, settle, soa_serial, tcp_free_port, zone_records)
from zktest.daemon import Daemon, wait_for
from zktest.tools import Setup, bind_verify, ldns_verify, zk
from zktest.zones import SIMPLE

ZONE = "example.com."
PLATFORM_NS = ("ns1.example.net.", "ns2.example.net.")
BASE = SIMPLE.format(origin=ZONE) + (
    "alias IN CNAME www\n"
    "@ IN NS ns.secondary.example.\n"          # a non-platform apex NS from the file
    "txt IN TXT \"hello\"\n"
    "ttl7200 7200 IN A 192.0.2.9\n")

# DNSSEC record data that parse (from a zone this project signed)
B64KEY = ("il3UVusKUo6hG+aHDhaCFun31xpCTfmBdBR64I5o1/qY6m0VktcAo5CU2hwYKNRjRyLPyyiGaelc"
          "jWVCt5uC1w==")
SIG = ("ga1YQ5v9qiPufuyEdgwW1BlUk+OF10MuTcujY3+RvIE6sH1skVQdtwZ7/U3uxNMFC0/V4GQz+1UmC0Zc"
       "6e3VWw==")
HEX64 = "D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A"
DNSSEC_WRITES = [
    ("@", "DNSKEY", "257 3 13 " + B64KEY),
    ("@", "DNSKEY", "256 3 13 " + B64KEY),
    ("www", "DNSKEY", "256 3 13 " + B64KEY),
    ("@", "RRSIG", "A 13 2 3600 20301211135428 20261127211053 41081 example.com. " + SIG),
    ("www", "RRSIG", "A 13 3 3600 20301211135428 20261127211053 41081 example.com. " + SIG),
    ("www", "NSEC", "mail.example.com. A RRSIG NSEC"),
    ("@", "NSEC", "mail.example.com. A NS SOA MX RRSIG NSEC DNSKEY"),
    ("kg19n32806c832kijdnglq8p9m2r5mdj", "NSEC3",
     "1 0 0 - mifdndt3nff3od53o7tla1hrff95jkuk A RRSIG"),
    ("@", "NSEC3PARAM", "1 0 0 -"),
    ("www", "NSEC3PARAM", "1 0 0 -"),
    ("@", "CDS", "41150 13 2 " + HEX64),
    ("@", "CDS", "0 0 0 00"),                      # RFC 8078 delete
    ("www", "CDS", "41150 13 2 " + HEX64),
    ("@", "CDNSKEY", "257 3 13 " + B64KEY),
    ("www", "CDNSKEY", "257 3 13 " + B64KEY),
]


class Env:
    """One zone, one daemon; restartable; everything stopped at the end."""

    def __init__(self, root, api=None, zone_text=BASE, policy=None):
        self.s = Setup(root, [ZONE], policy)
        if api:
            set_api(self.s, **api)
        self.s.write_zone(ZONE, zone_text)
        self.c = Client(self.s.api_socket)
        self.d = None
        self.start()

    def start(self):
        self.d = Daemon(self.s)
        self.d.wait_ready()

    def restart(self):
        assert self.d.stop() == 0
        self.d.close()
        self.start()

    def close(self):
        if self.d:
            self.d.close()

    @property
    def out(self):
        return self.s.output_file(ZONE)

    def recs(self):
        return zone_records(self.out)

    def snapshot(self):
        settle(self.s, self.d, ZONE)
        return Snapshot(self.s, self.d, self.c, ZONE)

    def published_snapshot(self):
        """Right after a write with ?wait=published: the published zone and the listing
        (the write-back to the input file may still be due)."""
        return Snapshot(self.s, self.d, self.c, ZONE, with_input=False)

    def serial(self):
        return self.d.zone(ZONE)["serial"]


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path)
    yield e
    e.close()


def refused(snap, r, http, code, *msg):
    """A refusal: the exact error shape and nothing changed."""
    text = assert_error(r, http, code, *msg)
    snap.check("%d %s: %s" % (http, code, text))
    return text


class Refusals:
    """Check every case and report all the ones that fail, with their bodies."""

    def __init__(self, snap):
        self.snap = snap
        self.failures = []

    def check(self, what, r, http, code, *msg):
        try:
            refused(self.snap, r, http, code, *msg)
        except AssertionError as e:
            self.failures.append("%s:\n    %s" % (what, str(e).splitlines()[0]))

    def done(self):
        assert not self.failures, "%d case(s):\n%s" % (len(self.failures),
                                                       "\n".join(self.failures))


def still_nothing(snap, what):
    """After the refusals: no run was started for them, and nothing moved. A run is
    started on the loop thread before the reply that caused it is sent, so the count the
    status shows now is final for the refused requests: no waiting needed."""
    z = snap.d.zone(snap.zone)
    assert z["runs"] == snap.runs and z["state"] == "ok", (what, snap.runs, z)
    snap.check(what)


def by_type(records, rtype):
    return [r for r in records if r["type"] == rtype]


def created(r, status=201):
    assert r.status == status, r
    j = r.json
    assert j["status"] == "ok" and "record" in j, r
    assert_record_shape(j["record"])
    return j["record"]


def comparable(records):
    """The records whose ids do not move with each publication (the SOA's RDATA holds the
    serial; signatures and NSEC3 chains are remade)."""
    return sorted(json.dumps(r, sort_keys=True) for r in records
                  if r["type"] not in ("SOA", "RRSIG", "NSEC", "NSEC3"))


# ------------------------------------------------- the records zonekeeper owns, one by one

def test_soa_create_update_delete_is_protected(env):
    c = env.c
    snap = env.snapshot()
    soa = by_type(c.records(ZONE), "SOA")
    assert len(soa) == 1 and soa[0]["system"] is True, soa
    sid = soa[0]["id"]
    content = "ns1.example.net. hostmaster.example.com. 4000000000 7200 3600 1209600 3600"
    for name in ("@", "www", ZONE):
        refused(snap, c.post(ZONE, {"name": name, "type": "SOA", "content": content}),
                403, "PROTECTED_RECORD", "SOA")
    for body in ({"content": content}, {"ttl": 60}, {"name": "www"}, {"type": "TXT",
                                                                      "content": '"x"'}):
        refused(snap, c.put(ZONE, sid, body), 403, "PROTECTED_RECORD", "SOA")
    refused(snap, c.delete(ZONE, sid), 403, "PROTECTED_RECORD", "SOA")
    # turning a user record into an SOA
    www = c.records(ZONE, "?name=www.example.com.&type=A")[0]
    refused(snap, c.put(ZONE, www["id"], {"name": "@", "type": "SOA", "content": content}),
            403, "PROTECTED_RECORD", "SOA")
    still_nothing(snap, "the SOA refusals")


def test_platform_nameservers_are_protected(env):
    c = env.c
    snap = env.snapshot()
    ns = by_type(c.records(ZONE, ""), "NS")
    platform = [r for r in ns if r["content"] in PLATFORM_NS]
    assert sorted(r["content"] for r in platform) == sorted(PLATFORM_NS), ns
    assert all(r["system"] is True and r["name"] == ZONE for r in platform), platform
    names = [n.rstrip(".") for n in PLATFORM_NS]
    for p in platform:
        refused(snap, c.delete(ZONE, p["id"]), 403, "PROTECTED_RECORD", *names)
        refused(snap, c.put(ZONE, p["id"], {"content": "ns9.example.org."}), 403,
                "PROTECTED_RECORD", *names)
        refused(snap, c.put(ZONE, p["id"], {"name": "sub"}), 403, "PROTECTED_RECORD", *names)
        refused(snap, c.put(ZONE, p["id"], {"type": "TXT", "content": '"x"'}), 403,
                "PROTECTED_RECORD", *names)
    still_nothing(snap, "the platform NS refusals")


def generic(rtype, content):
    rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), content,
                             origin=dns.name.from_text(ZONE))
    w = rd.to_digestable(dns.name.from_text(ZONE))
    return "TYPE%d" % dns.rdatatype.from_text(rtype), "\\# %d %s" % (len(w), w.hex())


def test_dnssec_types_are_protected(env):
    c = env.c
    snap = env.snapshot()
    for name, rtype, content in DNSSEC_WRITES:
        refused(snap, c.post(ZONE, {"name": name, "type": rtype, "content": content}),
                403, "PROTECTED_RECORD", rtype)
        # the same in RFC 3597 form: TYPEnnn and \# RDATA
        gtype, gc = generic(rtype, content)
        refused(snap, c.post(ZONE, {"name": name, "type": gtype, "content": gc}),
                403, "PROTECTED_RECORD")
    # update and delete the ones zonekeeper made
    records = c.records(ZONE)
    keys = by_type(records, "DNSKEY")
    assert len(keys) >= 2 and all(k["system"] is True for k in keys), keys
    system = [r for r in records if r["type"] in ("DNSKEY", "CDS", "CDNSKEY", "NSEC3PARAM",
                                                   "RRSIG", "NSEC", "NSEC3")]
    for r in system:
        assert r["system"] is True, r
    for rtype in sorted({r["type"] for r in system}):
        for r in by_type(system, rtype)[:2]:
            refused(snap, c.delete(ZONE, r["id"]), 403, "PROTECTED_RECORD", rtype)
            refused(snap, c.put(ZONE, r["id"], {"ttl": 60}), 403, "PROTECTED_RECORD", rtype)
            refused(snap, c.put(ZONE, r["id"], {"name": "www"}), 403, "PROTECTED_RECORD", rtype)
            if rtype == "DNSKEY":
                flags = "256" if r["content"].startswith("257") else "257"
                refused(snap, c.put(ZONE, r["id"], {"content": flags + r["content"][3:]}),
                        403, "PROTECTED_RECORD", rtype)
    # a user record turned into DNSSEC data
    www = c.records(ZONE, "?name=www.example.com.&type=A")[0]
    refused(snap, c.put(ZONE, www["id"], {"type": "DNSKEY", "content": "256 3 13 " + B64KEY}),
            403, "PROTECTED_RECORD", "DNSKEY")
    refused(snap, c.put(ZONE, www["id"], {"type": "CDS", "content": "41150 13 2 " + HEX64}),
            403, "PROTECTED_RECORD", "CDS")
    still_nothing(snap, "the DNSSEC refusals")


def test_non_platform_apex_ns_can_be_added_and_removed(env):
    c = env.c
    before = env.serial()
    r = c.post(ZONE, {"name": "@", "type": "NS", "content": "ns1.other-dns.example."},
               wait=True)
    rec = created(r)
    assert rec["system"] is False and rec["name"] == ZONE and r.json["created"] is True
    assert gt(r.json["serial"], before)
    recs = env.recs()
    assert find(recs, ZONE, "NS", "ns1.other-dns.example.")
    for p in PLATFORM_NS:
        assert find(recs, ZONE, "NS", p)
    assert covered(recs, ZONE, "NS")
    # and removed again
    r = c.delete(ZONE, rec["id"], wait=True)
    assert r.status == 200 and r.json["record"] == rec, r
    recs = env.recs()
    assert not find(recs, ZONE, "NS", "ns1.other-dns.example.")
    assert all(find(recs, ZONE, "NS", p) for p in PLATFORM_NS)
    # the one that came from the file can be removed too
    sec = [x for x in c.records(ZONE, "?name=example.com.&type=NS")
           if x["content"] == "ns.secondary.example."]
    assert len(sec) == 1 and sec[0]["system"] is False, sec
    r = c.delete(ZONE, sec[0]["id"], wait=True)
    assert r.status == 200, r
    assert not find(env.recs(), ZONE, "NS", "ns.secondary.example.")
    assert ldns_verify(env.out).returncode == 0


def test_ns_at_a_subzone_is_accepted(env):
    r = env.c.post(ZONE, {"name": "sub", "type": "NS", "content": "ns.sub-provider.example."},
                   wait=True)
    rec = created(r)
    assert rec["name"] == "sub.example.com." and rec["system"] is False
    recs = env.recs()
    assert find(recs, "sub.example.com.", "NS", "ns.sub-provider.example.")
    assert not covered(recs, "sub.example.com.", "NS")      # delegation NS: not signed
    assert ldns_verify(env.out).returncode == 0


def test_cname_conflicts(env):
    c = env.c
    snap = env.snapshot()
    cases = [
        {"name": "www", "type": "CNAME", "content": "mail"},        # CNAME beside an A
        {"name": "alias", "type": "A", "content": "192.0.2.200"},   # data beside a CNAME
        {"name": "alias", "type": "TXT", "content": '"x"'},
        {"name": "@", "type": "CNAME", "content": "www"},           # CNAME at the apex
        {"name": ZONE, "type": "CNAME", "content": "www.example.org."},
    ]
    rs = Refusals(snap)
    for body in cases:
        rs.check("POST %s" % json.dumps(body), c.post(ZONE, body), 409, "CNAME_CONFLICT")
    rs.done()
    # moving data beside the CNAME, or an existing record into a CNAME beside data
    mail = c.records(ZONE, "?name=mail.example.com.&type=A")[0]
    refused(snap, c.put(ZONE, mail["id"], {"name": "alias"}), 409, "CNAME_CONFLICT")
    txt = c.records(ZONE, "?name=txt.example.com.&type=TXT")[0]
    refused(snap, c.put(ZONE, txt["id"], {"name": "www", "type": "CNAME", "content": "mail"}),
            409, "CNAME_CONFLICT")
    still_nothing(snap, "the CNAME refusals")


def test_out_of_zone(env):
    c = env.c
    snap = env.snapshot()
    for name in ("www.example.org.", "notexample.com.", "com.", "example.com.evil.", "."):
        refused(snap, c.post(ZONE, {"name": name, "type": "A", "content": "192.0.2.1"}),
                400, "OUT_OF_ZONE")
    www = c.records(ZONE, "?name=www.example.com.&type=A")[0]
    refused(snap, c.put(ZONE, www["id"], {"name": "www.example.net."}), 400, "OUT_OF_ZONE")
    still_nothing(snap, "the out-of-zone refusals")


INVALID_BODIES = [
    # names
    {"name": "a" * 64, "type": "A", "content": "192.0.2.1"},
    {"name": "a..b", "type": "A", "content": "192.0.2.1"},
    {"name": "", "type": "A", "content": "192.0.2.1"},
    {"name": ".www", "type": "A", "content": "192.0.2.1"},
    {"name": ".".join(["a" * 63] * 4), "type": "A", "content": "192.0.2.1"},   # > 255
    # types
    {"name": "www", "type": "NOTATYPE", "content": "192.0.2.1"},
    {"name": "www", "type": "", "content": "192.0.2.1"},
    {"name": "www", "type": "TYPE70000", "content": "\\# 0"},
    {"name": "www", "type": "A A", "content": "192.0.2.1"},
    # TTLs
    {"name": "www", "type": "A", "content": "192.0.2.10", "ttl": -1},
    {"name": "www", "type": "A", "content": "192.0.2.10", "ttl": 4294967296},
    {"name": "www", "type": "A", "content": "192.0.2.10", "ttl": 2147483648},  # RFC 2181 §8
    {"name": "www", "type": "A", "content": "192.0.2.10", "ttl": 10**30},
    # content
    {"name": "www", "type": "A", "content": "300.1.1.1"},
    {"name": "www", "type": "A", "content": ""},
    {"name": "www", "type": "A", "content": "192.0.2"},
    {"name": "www", "type": "AAAA", "content": "2001:db8::zz"},
    {"name": "www", "type": "MX", "content": "mail"},
    {"name": "www", "type": "A", "content": "192.0.2.10\nevil IN A 192.0.2.66"},
    {"name": "www", "type": "TXT", "content": '"unterminated'},
    {"name": "www", "type": "A", "content": "\\# 5 C000020101"},                # wrong length
    # wrong field types
    {"name": "www", "type": "A", "content": "192.0.2.10", "ttl": "x"},
    {"name": "www", "type": "A", "content": "192.0.2.10", "ttl": "3600"},
    {"name": "www", "type": "A", "content": "192.0.2.10", "ttl": 1.5},
    {"name": "www", "type": "A", "content": "192.0.2.10", "ttl": True},
    {"name": 5, "type": "A", "content": "192.0.2.10"},
    {"name": "www", "type": 1, "content": "192.0.2.10"},
    {"name": "www", "type": "A", "content": 3221225994},
    {"name": ["www"], "type": "A", "content": "192.0.2.10"},
    # unknown or missing fields
    {"name": "www", "type": "A", "content": "192.0.2.10", "proxied": True},
    {"name": "www", "type": "A", "content": "192.0.2.10", "comment": "hi"},
    {"name": "www", "type": "A"},
    {"type": "A", "content": "192.0.2.10"},
    {"name": "www", "content": "192.0.2.10"},
    {},
]


def test_invalid_records(env):
    c = env.c
    snap = env.snapshot()
    rs = Refusals(snap)
    for body in INVALID_BODIES:
        rs.check("POST %s" % json.dumps(body)[:150], c.post(ZONE, body), 400,
                 "INVALID_RECORD")
    www = c.records(ZONE, "?name=www.example.com.&type=A")[0]
    for body in ({"ttl": -5}, {"ttl": "x"}, {"content": "300.1.1.1"}, {"name": "a" * 64},
                 {"type": "NOTATYPE"}, {"bogus": 1}, {"content": 7}):
        rs.check("PUT %s" % json.dumps(body), c.put(ZONE, www["id"], body), 400,
                 "INVALID_RECORD")
    rs.done()
    still_nothing(snap, "the invalid records")
    assert c.get("/v1/health").status == 200


BAD_BODIES = [
    '{"name":"www","type":"A",',                       # truncated
    '{"name":"www","type":"A","content":"192.0.2.1"} trailing',
    "{name: 'www'}",
    '[{"name":"www","type":"A","content":"192.0.2.1"}]',   # an array
    '"www"', "null", "42", "",
    b'{"name":"\xff\xfe","type":"A","content":"192.0.2.1"}',  # not UTF-8
]


def test_bad_request_bodies(env):
    c = env.c
    snap = env.snapshot()
    rs = Refusals(snap)
    for body in BAD_BODIES:
        rs.check("POST %r" % body, c.post(ZONE, body), 400, "BAD_REQUEST")
    www = c.records(ZONE, "?name=www.example.com.&type=A")[0]
    for body in BAD_BODIES[:4]:
        rs.check("PUT %r" % body, c.put(ZONE, www["id"], body), 400, "BAD_REQUEST")
    rs.done()
    still_nothing(snap, "the bad bodies")
    assert c.get("/v1/health").status == 200


def test_unknown_zone_and_record(env):
    c = env.c
    snap = env.snapshot()
    rec = {"name": "www", "type": "A", "content": "192.0.2.10"}
    for z in ("nope.example.", "nope.example", "example.org."):
        refused(snap, c.post(z, rec), 404, "ZONE_NOT_FOUND")
        refused(snap, c.get("/v1/zones/%s/records" % z), 404, "ZONE_NOT_FOUND")
        refused(snap, c.put(z, "0123456789abcdef", {"ttl": 60}), 404, "ZONE_NOT_FOUND")
        refused(snap, c.delete(z, "0123456789abcdef"), 404, "ZONE_NOT_FOUND")
    ids = {r["id"] for r in c.records(ZONE)}
    missing = next("%016x" % i for i in range(1, 1000) if "%016x" % i not in ids)
    refused(snap, c.put(ZONE, missing, {"ttl": 60}), 404, "RECORD_NOT_FOUND")
    refused(snap, c.delete(ZONE, missing), 404, "RECORD_NOT_FOUND")
    still_nothing(snap, "the unknown zone and record")


def big_body(size):
    """A well-formed write of at least `size` bytes."""
    strings = " ".join('"%s"' % ("x" * 250) for _ in range(size // 253 + 1))
    return json.dumps({"name": "big", "type": "TXT", "content": strings})


def test_payload_too_large(env):
    c = env.c
    snap = env.snapshot()
    body = big_body(1024 * 1024 + 1024)   # api.max_body defaults to 1 MiB
    refused(snap, c.post(ZONE, body), 413, "PAYLOAD_TOO_LARGE")
    www = c.records(ZONE, "?name=www.example.com.&type=A")[0]
    refused(snap, c.put(ZONE, www["id"], body), 413, "PAYLOAD_TOO_LARGE")
    still_nothing(snap, "the oversize bodies")
    assert c.get("/v1/health").status == 200


def test_max_body_setting(tmp_path):
    e = Env(tmp_path, api={"max_body": 2048})
    try:
        snap = e.snapshot()
        refused(snap, e.c.post(ZONE, big_body(2100)), 413, "PAYLOAD_TOO_LARGE")
        still_nothing(snap, "a body over api.max_body")
        small = big_body(1200)
        assert len(small) < 2048
        created(e.c.post(ZONE, small))
    finally:
        e.close()


# ---------------------------------------------------------------- accepted writes

def test_create_list_update_delete(env):
    c = env.c
    body = {"name": "new", "type": "A", "content": "192.0.2.77", "ttl": 600}
    r = c.post(ZONE, body)
    rec = created(r)
    assert r.json["created"] is True
    assert rec == {"id": rec["id"], "name": "new.example.com.", "type": "A",
                   "content": "192.0.2.77", "ttl": 600, "system": False}
    # the same record again: 200, not created, the same id
    r = c.post(ZONE, body)
    assert created(r, 200) == rec and r.json["created"] is False
    # the zone path with or without the final dot
    assert c.records("example.com", "?name=new.example.com.&type=A") == [rec]
    assert c.records(ZONE, "?name=new.example.com.&type=A") == [rec]
    assert [x for x in c.records(ZONE) if x["id"] == rec["id"]] == [rec]
    # published and signed
    wait_for(lambda: find(env.recs(), "new.example.com.", "A", "192.0.2.77"),
             what="the new record published")
    assert covered(env.recs(), "new.example.com.", "A")
    # PUT: new content, a new id; the TTL kept
    before = env.serial()
    r = c.put(ZONE, rec["id"], {"content": "192.0.2.78"}, wait=True)
    assert r.status == 200 and r.json["status"] == "ok", r
    new = r.json["record"]
    assert_record_shape(new)
    assert new["content"] == "192.0.2.78" and new["ttl"] == 600 and new["id"] != rec["id"]
    assert gt(r.json["serial"], before) and soa_serial(env.out) == r.json["serial"]
    recs = env.recs()
    assert find(recs, "new.example.com.", "A", "192.0.2.78")
    assert not find(recs, "new.example.com.", "A", "192.0.2.77")
    assert covered(recs, "new.example.com.", "A")
    assert c.records(ZONE, "?name=new.example.com.&type=A") == [new]
    refused(env.published_snapshot(), c.put(ZONE, rec["id"], {"ttl": 60}), 404,
            "RECORD_NOT_FOUND")
    # PUT of the TTL alone: the same id
    r = c.put(ZONE, new["id"], {"ttl": 1200}, wait=True)
    assert r.status == 200 and r.json["record"] == dict(new, ttl=1200), r
    assert [x.ttl for x in find(env.recs(), "new.example.com.", "A")] == [1200]
    # DELETE: the deleted record comes back, the file loses it
    before = r.json["serial"]
    r = c.delete(ZONE, new["id"], wait=True)
    assert r.status == 200 and r.json["status"] == "ok", r
    assert r.json["record"] == dict(new, ttl=1200)
    assert gt(r.json["serial"], before) and soa_serial(env.out) == r.json["serial"]
    recs = env.recs()
    assert not find(recs, "new.example.com.", "A") and not covered(recs, "new.example.com.", "A")
    assert c.records(ZONE, "?name=new.example.com.") == []
    snap = env.published_snapshot()
    refused(snap, c.delete(ZONE, new["id"]), 404, "RECORD_NOT_FOUND")
    refused(snap, c.put(ZONE, new["id"], {"content": "192.0.2.79"}), 404, "RECORD_NOT_FOUND")
    still_nothing(snap, "writes to a deleted record")
    assert ldns_verify(env.out).returncode == 0


WRITES = [
    ({"name": "rel", "type": "A", "content": "192.0.2.31"}, "rel.example.com."),
    ({"name": "abs.example.com.", "type": "AAAA", "content": "2001:db8::31"},
     "abs.example.com."),
    ({"name": "@", "type": "TXT", "content": '"v=spf1 -all"'}, ZONE),
    ({"name": "UPPER.Case", "type": "A", "content": "192.0.2.32"}, "upper.case.example.com."),
    ({"name": "mx", "type": "MX", "content": "10 mail"}, "mx.example.com."),
    ({"name": "@", "type": "CAA", "content": '0 issue "letsencrypt.org"'}, ZONE),
    ({"name": "_sip._udp", "type": "SRV", "content": "10 60 5060 sip.example.com."},
     "_sip._udp.example.com."),
    ({"name": "svc", "type": "HTTPS", "content": "1 . alpn=h2"}, "svc.example.com."),
    ({"name": "gen", "type": "TYPE65280", "content": "\\# 4 0A000001"}, "gen.example.com."),
    ({"name": "gen-a", "type": "A", "content": "\\# 4 C0000221"}, "gen-a.example.com."),
    ({"name": "*.wild", "type": "A", "content": "192.0.2.33"}, "*.wild.example.com."),
    ({"name": "cn", "type": "CNAME", "content": "www"}, "cn.example.com."),
    ({"name": "a.b.c.ent", "type": "TXT", "content": '"deep"'}, "a.b.c.ent.example.com."),
    ({"name": "esc\\.aped", "type": "TXT", "content": '"quote \\" and \\\\"'},
     "esc\\.aped.example.com."),
    ({"name": "big", "type": "TXT", "content": " ".join(['"%s"' % ("y" * 255)] * 8)},
     "big.example.com."),
]


def test_wait_published_returns_the_serial_and_the_record_is_signed(env):
    c = env.c
    for body, owner in WRITES:
        before = soa_serial(env.out)
        r = c.post(ZONE, body, wait=True)
        rec = created(r)
        assert canon(rec["name"]) == canon(owner) and rec["system"] is False, rec
        rtype = dns.rdatatype.to_text(dns.rdatatype.from_text(body["type"]))
        assert rec["type"] == rtype, rec
        serial = r.json["serial"]
        assert isinstance(serial, int) and gt(serial, before), (serial, before)
        assert soa_serial(env.out) == serial and env.serial() == serial
        recs = env.recs()
        assert find(recs, owner, rtype, body["content"], ZONE), (body, owner)
        assert covered(recs, owner, rtype), "no RRSIG over %s %s" % (owner, rtype)
        assert rec["ttl"] == 3600
    for p in (ldns_verify(env.out), bind_verify(env.out, ZONE)):
        assert p.returncode == 0, p.stdout + p.stderr


def test_ttl_defaults_and_applies_to_the_rrset(env):
    c = env.c
    # joining an RRset: its TTL; a new RRset: 3600
    rec = created(c.post(ZONE, {"name": "ttl7200", "type": "A", "content": "192.0.2.10"}))
    assert rec["ttl"] == 7200
    rec = created(c.post(ZONE, {"name": "fresh", "type": "TXT", "content": '"x"'}))
    assert rec["ttl"] == 3600
    # a TTL applies to the whole RRset
    r = c.post(ZONE, {"name": "www", "type": "A", "content": "192.0.2.3", "ttl": 300},
               wait=True)
    created(r)
    www = c.records(ZONE, "?name=www.example.com.&type=A")
    assert len(www) == 2 and {x["ttl"] for x in www} == {300}, www
    assert {x.ttl for x in find(env.recs(), "www.example.com.", "A")} == {300}
    assert all(x.text.split()[3] == "300" for x in covered(env.recs(), "www.example.com.", "A"))
    assert ldns_verify(env.out).returncode == 0


def test_listing_flags_system_records_and_filters(env):
    c = env.c
    created(c.post(ZONE, {"name": "www", "type": "TXT", "content": '"t"'}, wait=True))
    allr = c.records(ZONE)
    for r in allr:
        assert_record_shape(r)
    assert len({r["id"] for r in allr}) == len(allr), "ids are not unique"
    soa = by_type(allr, "SOA")
    assert len(soa) == 1 and soa[0]["system"] and soa[0]["name"] == ZONE
    assert len(by_type(allr, "DNSKEY")) >= 2
    for r in allr:
        if r["type"] in ("SOA", "DNSKEY", "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "CDS",
                         "CDNSKEY"):
            assert r["system"] is True, r
        elif r["type"] == "NS" and r["name"] == ZONE:
            assert r["system"] is (r["content"] in PLATFORM_NS), r
        else:
            assert r["system"] is False, r
    assert {r["content"] for r in allr if r["type"] == "NS" and r["system"]} == set(PLATFORM_NS)
    users = {(r["name"], r["type"], r["content"]) for r in allr if not r["system"]}
    for want in (("www.example.com.", "A", "192.0.2.2"), ("www.example.com.", "TXT", '"t"'),
                 ("alias.example.com.", "CNAME", "www.example.com."),
                 (ZONE, "NS", "ns.secondary.example."), (ZONE, "A", "192.0.2.1"),
                 ("mail.example.com.", "A", "192.0.2.25")):
        assert want in users, (want, users)
    # filters
    cases = [("?name=www.example.com.", lambda r: r["name"] == "www.example.com."),
             ("?type=A", lambda r: r["type"] == "A"),
             ("?type=NS&name=example.com.", lambda r: r["type"] == "NS" and r["name"] == ZONE),
             ("?name=www.example.com.&type=TXT",
              lambda r: r["name"] == "www.example.com." and r["type"] == "TXT"),
             ("?type=SOA", lambda r: r["type"] == "SOA")]
    for q, pred in cases:
        got = c.records(ZONE, q)
        want = [r for r in c.records(ZONE) if pred(r)]
        assert got and sorted(got, key=lambda r: r["id"]) == sorted(want, key=lambda r: r["id"]), q
    assert len(c.records(ZONE, "?type=NS&name=example.com.")) == 3
    assert c.records(ZONE, "?name=nothing.example.com.") == []
    assert c.records(ZONE, "?type=SRV") == []


def test_ids_are_stable_across_a_restart(env):
    c = env.c
    ids = {}
    for i in range(5):
        rec = created(c.post(ZONE, {"name": "keep%d" % i, "type": "A",
                                    "content": "192.0.2.%d" % (40 + i)}))
        ids[rec["name"]] = rec["id"]
    settle(env.s, env.d, ZONE)
    before = c.records(ZONE)
    env.restart()
    after = c.records(ZONE)
    assert comparable(after) == comparable(before)
    for name, rid in ids.items():
        assert [r["id"] for r in c.records(ZONE, "?name=" + name)] == [rid]
    # and the ids work for writes after the restart
    r = c.delete(ZONE, ids["keep0.example.com."], wait=True)
    assert r.status == 200, r
    assert not find(env.recs(), "keep0.example.com.", "A")


def test_secure_delegation_through_the_api(env):
    c = env.c
    writes = [("sub", "NS", "ns1.sub"), ("sub", "NS", "ns2.sub.example.com."),
              ("ns1.sub", "A", "192.0.2.53"), ("ns2.sub", "AAAA", "2001:db8::53"),
              ("sub", "DS", "60485 13 2 " + HEX64),
              ("sub", "DS", "60485 13 4 " + "AB" * 48)]
    for i, (name, rtype, content) in enumerate(writes):
        created(c.post(ZONE, {"name": name, "type": rtype, "content": content},
                       wait=(i == len(writes) - 1)))
    recs = env.recs()
    sub = "sub.example.com."
    assert len(find(recs, sub, "NS")) == 2 and len(find(recs, sub, "DS")) == 2
    assert find(recs, "ns1.sub.example.com.", "A", "192.0.2.53")
    assert find(recs, "ns2.sub.example.com.", "AAAA", "2001:db8::53")
    assert covered(recs, sub, "DS"), "the DS RRset is not signed"
    assert not covered(recs, sub, "NS"), "the delegation NS is signed"
    assert not covered(recs, "ns1.sub.example.com.", "A"), "glue is signed"
    assert not covered(recs, "ns2.sub.example.com.", "AAAA"), "glue is signed"
    for p in (ldns_verify(env.out), bind_verify(env.out, ZONE)):
        assert p.returncode == 0, p.stdout + p.stderr


# ---------------------------------------------------------------- clients misbehaving

def unix_conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(str(path))
    return s


def test_slow_and_idle_clients_do_not_block_others(env):
    c = env.c
    settle(env.s, env.d, ZONE)
    before = comparable(c.records(ZONE))
    held = []
    try:
        for _ in range(5):
            held.append(unix_conn(env.s.api_socket))            # idle: sends nothing
        for _ in range(5):
            s = unix_conn(env.s.api_socket)                     # half a request line
            s.sendall(b"GET /v1/heal")
            held.append(s)
        for _ in range(5):
            s = unix_conn(env.s.api_socket)                     # headers, half a body
            s.sendall(b"POST /v1/zones/example.com./records HTTP/1.1\r\nHost: z\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
                      b'{"name":"slow","type":"A","content":"192.0.2')
            held.append(s)
        time.sleep(0.2)
        t0 = time.monotonic()
        r = c.get("/v1/health", timeout=5)
        assert r.status == 200 and r.json["status"] == "ok" and r.json["unixtime"] > 0, r
        rec = created(c.post(ZONE, {"name": "other", "type": "A", "content": "192.0.2.88"},
                             timeout=10))
        assert len(c.records(ZONE)) > 0
        assert time.monotonic() - t0 < 10
    finally:
        for s in held:
            s.close()
    assert c.get("/v1/health").status == 200
    settle(env.s, env.d, ZONE)
    assert c.records(ZONE, "?name=slow.example.com.") == []
    assert not find(env.recs(), "slow.example.com.", "A")
    assert find(env.recs(), "other.example.com.", "A", "192.0.2.88")
    after = [x for x in c.records(ZONE) if x["id"] != rec["id"]]
    assert comparable(after) == before


def test_fifty_concurrent_writers(env):
    c = env.c
    settle(env.s, env.d, ZONE)
    before = comparable(c.records(ZONE))

    def write(i):
        return c.post(ZONE, {"name": "c%d" % i, "type": "A", "content": "10.9.0.%d" % i},
                      timeout=30)
    with ThreadPoolExecutor(max_workers=50) as ex:
        results = list(ex.map(write, range(50)))
    recs = [created(r) for r in results]
    assert len({r["id"] for r in recs}) == 50
    listed = {r["id"] for r in c.records(ZONE, "?type=A")}
    assert {r["id"] for r in recs} <= listed

    def all_published():
        out = env.recs()
        return all(find(out, "c%d.example.com." % i, "A", "10.9.0.%d" % i) for i in range(50))
    wait_for(all_published, 30, "the 50 records published")
    assert c.get("/v1/health").status == 200
    mine = {r["id"] for r in recs}
    assert comparable([x for x in c.records(ZONE) if x["id"] not in mine]) == before
    assert ldns_verify(env.out).returncode == 0


# ---------------------------------------------------------------- file edits and the API

def external_edit(s, add):
    """An editor's atomic save: read the file, write a temporary one, rename it."""
    text = s.input_file(ZONE).read_text()
    tmp = s.input / ".example.com.zone.edit"
    tmp.write_text(text + add)
    tmp.rename(s.input_file(ZONE))


def written_back(s, label):
    return re.search(r"^%s(\.example\.com\.)?\s" % re.escape(label),
                     s.input_file(ZONE).read_text(), re.M | re.I)


def test_api_write_then_file_edit_right_away(env):
    c, s = env.c, env.s
    rec = created(c.post(ZONE, {"name": "fromapi", "type": "A", "content": "192.0.2.101"}))
    external_edit(s, "fromfile IN A 192.0.2.102\n")        # perhaps before the write-back

    def both():
        out = env.recs()
        return (find(out, "fromapi.example.com.", "A", "192.0.2.101")
                and find(out, "fromfile.example.com.", "A", "192.0.2.102"))
    wait_for(both, 30, "the API write and the file edit both published")
    settle(s, env.d, ZONE)
    assert both()
    assert [r["id"] for r in c.records(ZONE, "?name=fromapi.example.com.")] == [rec["id"]]
    assert c.records(ZONE, "?name=fromfile.example.com.")
    wait_for(lambda: written_back(s, "fromapi"), 30, "the API write in the unsigned file")
    assert written_back(s, "fromfile")
    assert ldns_verify(env.out).returncode == 0
    # and both survive a restart
    env.restart()
    settle(s, env.d, ZONE)
    assert both()
    assert [r["id"] for r in c.records(ZONE, "?name=fromapi.example.com.")] == [rec["id"]]


def test_file_edit_after_write_back(env):
    c, s = env.c, env.s
    rec = created(c.post(ZONE, {"name": "fromapi", "type": "TXT", "content": '"api"'},
                         wait=True))
    wait_for(lambda: written_back(s, "fromapi"), 30, "the API write in the unsigned file")
    settle(s, env.d, ZONE)
    serial = env.serial()
    external_edit(s, 'fromfile IN TXT "file"\n')
    z = env.d.wait_zone(ZONE, lambda z: z["serial"] != serial, what="the file edit published")
    assert gt(z["serial"], serial)
    settle(s, env.d, ZONE)
    out = env.recs()
    assert find(out, "fromapi.example.com.", "TXT", '"api"')
    assert find(out, "fromfile.example.com.", "TXT", '"file"')
    # an id is the same across file edits
    assert [r["id"] for r in c.records(ZONE, "?name=fromapi.example.com.")] == [rec["id"]]
    # and an API write after the edit keeps the edit
    created(c.post(ZONE, {"name": "again", "type": "TXT", "content": '"api2"'}, wait=True))
    out = env.recs()
    assert find(out, "fromfile.example.com.", "TXT", '"file"')
    assert find(out, "again.example.com.", "TXT", '"api2"')


@pytest.mark.slow
def test_write_back_waits_for_a_quiet_moment(env):
    """Under a steady stream of API writes (one a second) the input file is rewritten at
    the latest 60 s after the first write pending, not every 5 s; once the writes stop it
    follows 5 s after the last one."""
    c, s = env.c, env.s
    start = time.monotonic()
    seen = None
    i = 0
    while time.monotonic() - start < 80:
        created(c.post(ZONE, {"name": "stream%d" % i, "type": "A",
                              "content": "192.0.2.%d" % (i % 250 + 1)}))
        i += 1
        if written_back(s, "stream0"):
            seen = time.monotonic() - start
            break
        time.sleep(1)
    assert seen is not None, "no write-back after 80 s of steady writes"
    # 60 s after the first write; not at 5 s (writes never paused that long)
    assert 55 <= seen <= 75, "first write-back %.1f s after the first write" % seen
    last = "stream%d" % (i - 1)
    created(c.post(ZONE, {"name": "after", "type": "A", "content": "192.0.2.254"}))
    stop = time.monotonic()
    time.sleep(2)
    assert not written_back(s, "after"), "written back 2 s after a write"
    wait_for(lambda: written_back(s, "after"), 15, "the write-back once the writes stopped")
    assert time.monotonic() - stop >= 4.5
    assert written_back(s, last)
    settle(s, env.d, ZONE)
    out = env.recs()
    assert all(find(out, "stream%d.example.com." % k, "A", "192.0.2.%d" % (k % 250 + 1))
               for k in range(i))


# ---------------------------------------------------------------- /metrics

METRIC = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)')


def metrics(c):
    r = c.get("/metrics")
    assert r.status == 200, r
    assert r.content_type.startswith("text/plain"), r.content_type
    types, samples = {}, []
    for line in r.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, t = line.split(None, 3)
            types[name] = t.strip()
        elif line and not line.startswith("#"):
            m = METRIC.match(line)
            assert m, "not Prometheus text: %r" % line
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            samples.append((m.group(1), labels, float(m.group(4))))
    return types, samples


def zone_serial_metric(c):
    _, samples = metrics(c)
    v = [s[2] for s in samples if s[0] == "zonekeeper_zone_serial"
         and s[1].get("zone") in (ZONE, ZONE.rstrip("."))]
    assert len(v) == 1, "zonekeeper_zone_serial{zone=%r}: %r" % (ZONE, v)
    return int(v[0])


def api_requests(c, status):
    """The API request counter(s) by status code: the sum over the samples labelled with
    `status`."""
    types, samples = metrics(c)
    names = {n for n, t in types.items() if t == "counter" and "api" in n and "request" in n}
    assert names, "no API request counter in %s" % sorted(types)
    total, seen = 0.0, False
    for name, labels, v in samples:
        base = re.sub(r"_total$", "", name)
        if name in names or base in names or name + "_total" in names:
            if any(labels.get(k) == str(status) for k in ("code", "status", "status_code")):
                total += v
                seen = True
    return total, seen


def test_metrics(env):
    c = env.c
    settle(env.s, env.d, ZONE)
    assert zone_serial_metric(c) == soa_serial(env.out) == env.serial()
    n403, _ = api_requests(c, 403)
    n201, _ = api_requests(c, 201)
    snap = env.snapshot()
    refused(snap, c.post(ZONE, {"name": "@", "type": "SOA", "content":
                                "a. b. 1 2 3 4 5"}), 403, "PROTECTED_RECORD")
    after, seen = api_requests(c, 403)
    assert seen and after >= n403 + 1, (n403, after)
    r = c.post(ZONE, {"name": "m", "type": "A", "content": "192.0.2.55"}, wait=True)
    created(r)
    assert zone_serial_metric(c) == r.json["serial"] == soa_serial(env.out)
    after201, seen = api_requests(c, 201)
    assert seen and after201 >= n201 + 1

    # the aggregates over all zones
    types, samples = metrics(c)
    agg = {n: v for n, labels, v in samples if not labels}
    assert agg["zonekeeper_zones_failing"] == 0, agg
    assert agg["zonekeeper_api_writes_total"] >= 1, agg
    assert agg["zonekeeper_runs_total"] >= 2, agg
    assert 0 < agg["zonekeeper_rrsig_expiry_min_seconds"] <= 14 * 86400, agg
    assert types["zonekeeper_runs_total"] == "counter", types
    ok = [v for n, labels, v in samples if n == "zonekeeper_zones" and labels == {"state": "ok"}]
    assert len(ok) == 1 and ok[0] >= 1, ok
    # one zone's series; an unknown zone or selector is refused
    r = c.get("/metrics?zone=" + ZONE)
    assert r.status == 200 and ('zonekeeper_zone_serial{zone="%s"} %d'
                                % (ZONE, soa_serial(env.out))) in r.text, r.text[:2000]
    assert_error(c.get("/metrics?zone=nowhere.test."), 404, "ZONE_NOT_FOUND")
    assert_error(c.get("/metrics?zones=some"), 400, "BAD_REQUEST")


# ---------------------------------------------------------------- the TCP listener

TOKENS = ["secret-token-0123456789abcdef", "second-secret-token-fedcba9876543210"]


@pytest.mark.parametrize("addr", ["127.0.0.1", "::1"])
def test_tcp_listener_needs_a_bearer_token(tmp_path, addr):
    try:
        port = tcp_free_port(addr)
    except OSError:
        pytest.skip("no %s here" % addr)
    host = "[%s]" % addr if ":" in addr else addr
    e = Env(tmp_path, api={"listen": "%s:%d" % (host, port), "tokens": TOKENS})
    try:
        tcp = Client(base="http://%s:%d" % (host, port))
        snap = e.snapshot()
        rec = {"name": "tcp", "type": "A", "content": "192.0.2.150"}
        for kw in ({}, {"token": "wrong"}, {"token": TOKENS[0][:-1]},
                   {"token": TOKENS[0] + "x"}, {"token": TOKENS[0].upper()},
                   {"headers": ["Authorization: Basic " +
                                base64.b64encode(TOKENS[0].encode()).decode()]},
                   {"headers": ["Authorization: " + TOKENS[0]]},
                   {"headers": ["Authorization: Bearer"]}):
            refused(snap, tcp.post(ZONE, rec, **kw), 401, "UNAUTHORIZED")
            refused(snap, tcp.get("/v1/zones/%s/records" % ZONE, **kw), 401, "UNAUTHORIZED")
            refused(snap, tcp.get("/v1/health", **kw), 401, "UNAUTHORIZED")
        still_nothing(snap, "requests without the right token")
        r = tcp.post(ZONE, rec, token=TOKENS[0], wait=True)
        created(r)
        assert find(e.recs(), "tcp.example.com.", "A", "192.0.2.150")
        r = tcp.get("/v1/zones/%s/records?name=tcp.example.com." % ZONE, token=TOKENS[1])
        assert r.status == 200 and len(r.json["records"]) == 1, r
        assert tcp.get("/v1/health", token=TOKENS[1]).status == 200
        # the Unix socket needs no token
        assert e.c.get("/v1/health").status == 200
    finally:
        e.close()


# ---------------------------------------------------------------- DS for the parent

def test_ds_endpoint_matches_the_cli(env):
    r = env.c.get("/v1/zones/%s/ds" % ZONE)
    assert r.status == 200 and r.json["status"] == "ok", r
    api = [" ".join(x["record"].lower().split()) for x in r.json["ds"]]
    for x in r.json["ds"]:
        assert set(x) >= {"tag", "digest_type", "record"}, x
    cli = zk("ds", "--config", env.s.config, "--zone", ZONE, check=True).stdout
    lines = [l.split("\t")[4].lower() for l in cli.splitlines() if "\tDS\t" in l]
    assert lines
    for l in lines:
        assert any(" ".join(l.split()) in a for a in api), (l, api)


# ---------------------------------------------------------------- other contract rows

def test_zone_never_loaded_is_unavailable(tmp_path):
    """A zone whose input failed before any publication: 503 UNAVAILABLE, the other zone
    served."""
    broken = "broken.example."
    s = Setup(tmp_path, [ZONE, broken])
    s.write_zone(ZONE, BASE)
    s.write_zone(broken, "$ORIGIN broken.example.\n@ IN SOA ns1 host 1 2 3 4 5\n"
                         "www IN A 300.300.300.300\n")
    d = Daemon(s)
    try:
        c = Client(s.api_socket)
        wait_for(lambda: s.output_file(ZONE).exists(), 30, "the good zone published")
        wait_for(lambda: d.zone(broken)["error"] is not None, 30, "the broken zone's error")
        assert_error(c.get("/v1/zones/%s/records" % broken), 503, "UNAVAILABLE")
        assert_error(c.post(broken, {"name": "www", "type": "A", "content": "192.0.2.1"}),
                     503, "UNAVAILABLE")
        assert not s.output_file(broken).exists()
        created(c.post(ZONE, {"name": "ok", "type": "A", "content": "192.0.2.1"}, wait=True))
    finally:
        d.close()


def test_wrong_methods_and_paths(env):
    c = env.c
    snap = env.snapshot()
    www = c.records(ZONE, "?name=www.example.com.&type=A")[0]
    rs = Refusals(snap)
    rs.check("PATCH a record", c.request("PATCH", "/v1/zones/%s/records/%s" % (ZONE, www["id"]),
                                         json_body={"ttl": 60}), 405, "METHOD_NOT_ALLOWED")
    rs.check("DELETE the collection", c.request("DELETE", "/v1/zones/%s/records" % ZONE),
             405, "METHOD_NOT_ALLOWED")
    rs.check("PUT the collection", c.request("PUT", "/v1/zones/%s/records" % ZONE,
                                             json_body={"ttl": 60}), 405, "METHOD_NOT_ALLOWED")
    rs.check("POST to a record", c.request("POST", "/v1/zones/%s/records/%s" % (ZONE, www["id"]),
                                           json_body={"ttl": 60}), 405, "METHOD_NOT_ALLOWED")
    rs.check("no such endpoint", c.get("/v1/zones/%s/nothing" % ZONE), 404, "NOT_FOUND")
    rs.done()
    still_nothing(snap, "wrong methods and paths")
