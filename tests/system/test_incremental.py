# SPDX-License-Identifier: MIT
"""Incremental publication: after an API write the daemon signs, checks and writes only the
names that changed (and the denial records next to them). Here a random series of writes
(new names, deep names that create and remove empty non-terminals, deletions, delegations
made and unmade, DS, glue, wildcards) goes through the daemon with ?wait=published, and
after each one the published zone is compared with a one-shot full signing of the same
data: the same NSEC or NSEC3 chain, record for record, and the same RRsets signed. The
data itself must be what the writes asked for, and ldns-verify-zone must accept it."""
import random
import time

import pytest

from zktest.api import Client
from zktest.daemon import Daemon
from zktest.tools import Setup, ldns_verify

ZONE = "inc.test."
DENIAL_TYPES = {"NSEC", "NSEC3"}
KEY_TYPES = {"DNSKEY", "CDS", "CDNSKEY"}
PLATFORM_NS = ("ns1.example.net.", "ns2.example.net.")


def base_zone():
    lines = ["$ORIGIN %s" % ZONE, "$TTL 3600",
             "@ IN SOA ns1.example.net. hostmaster 1 7200 3600 1209600 3600",
             "del1 IN NS ns.del1", "ns.del1 IN A 192.0.2.53",
             "sec1 IN NS ns.example.org.",
             "sec1 IN DS 12345 13 2 " + "AB" * 32]
    for i in range(300):
        lines.append("h%d IN A 192.0.2.%d" % (i, i % 250 + 1))
    for i in range(40):
        lines.append("a.b%d IN TXT \"deep %d\"" % (i, i))   # b<i> is an empty non-terminal
    return "\n".join(lines) + "\n"


def parse(path):
    out = []
    for line in open(path):
        if not line.strip() or line.startswith((";", "$")):
            continue
        owner, ttl, _cls, rtype, rdata = line.rstrip("\n").split(None, 4)
        out.append((owner.lower(), int(ttl), rtype, rdata))
    return out


def written_back(path):
    """The data of the input file once the daemon wrote it (before: the test's own file,
    in relative form, is not that)."""
    try:
        return sorted(r for r in parse(path) if r[2] != "SOA")  # DNSSEC records count too
    except ValueError:
        return None


def data_of(recs):
    """The zone's own data: no SOA (its serial moves), no DNSSEC records."""
    return sorted((o, t, ty, rd) for o, t, ty, rd in recs
                  if ty not in DENIAL_TYPES | KEY_TYPES | {"RRSIG", "NSEC3PARAM", "SOA"})


def denial_of(recs):
    return sorted((o, t, ty, rd) for o, t, ty, rd in recs if ty in DENIAL_TYPES)


def signed_of(recs):
    """Which RRsets carry signatures (owner, covered type); keys differ between signers."""
    return sorted({(o, rd.split()[0]) for o, _t, ty, rd in recs
                   if ty == "RRSIG" and rd.split()[0] not in KEY_TYPES})


class Writer:
    """API writes with the model of what the zone should then hold."""

    def __init__(self, client, rng, out):
        self.c = client
        self.rng = rng
        self.out = out
        self.n = 0

    def published(self, rel, rtype):
        return any(o == self.fqdn(rel) and ty == rtype for o, _t, ty, _rd in parse(self.out))

    def fqdn(self, rel):
        return ZONE if rel == "@" else "%s.%s" % (rel, ZONE)

    def add(self, rel, rtype, content, wait=True):
        r = self.c.post(ZONE, {"name": rel, "type": rtype, "content": content, "ttl": 3600},
                        wait=wait)
        assert r.status == 201, (rel, rtype, content, r)
        if wait:
            assert self.published(rel, rtype), (rel, rtype, "not in the published zone")

    def delete(self, rel, rtype, wait=True):
        recs = self.c.records(ZONE, "?name=%s&type=%s" % (self.fqdn(rel), rtype))
        assert recs, (rel, rtype)
        for i, rec in enumerate(recs):
            r = self.c.delete(ZONE, rec["id"], wait=wait and i == len(recs) - 1)
            assert r.status == 200, (rel, rtype, r)
        if wait:
            assert not self.published(rel, rtype), (rel, rtype, "still published")

    def step(self, existing):
        """One random change; returns what it did (for the failure message)."""
        self.n += 1
        k, rng = self.n, self.rng
        choice = rng.randrange(10)
        if choice == 0:
            self.add("n%d" % k, "A", "198.51.100.%d" % (k % 250 + 1))
            return "new leaf n%d" % k
        if choice == 1:
            self.add("x.y%d.h%d" % (k, rng.randrange(300)), "A", "198.51.100.7")
            return "deep name under a new ENT"
        if choice == 2 and existing["leaves"]:
            name = existing["leaves"].pop(rng.randrange(len(existing["leaves"])))
            self.delete(name, "A")
            return "delete %s" % name
        if choice == 3 and existing["deep"]:
            i = existing["deep"].pop(rng.randrange(len(existing["deep"])))
            self.delete("a.b%d" % i, "TXT")
            return "delete a.b%d (its ENT goes)" % i
        if choice == 4 and existing["leaves"]:
            name = existing["leaves"].pop(rng.randrange(len(existing["leaves"])))
            self.add(name, "NS", "ns.%s." % name + ZONE)
            self.add("ns." + name, "A", "192.0.2.99")
            existing["cuts"].append(name)
            return "delegate %s (its A becomes occluded, with glue)" % name
        if choice == 5 and existing["cuts"]:
            name = existing["cuts"][rng.randrange(len(existing["cuts"]))]
            self.add(name, "DS", "%d 13 2 %s" % (1000 + k, "CD" * 32))
            return "DS at %s" % name
        if choice == 6 and existing["cuts"]:
            name = existing["cuts"].pop(rng.randrange(len(existing["cuts"])))
            if self.c.records(ZONE, "?name=%s&type=DS" % self.fqdn(name)):
                # a delegation's DS goes before its last NS (the rules refuse the other way)
                self.delete(name, "DS", wait=False)
            self.delete(name, "NS")
            return "undelegate %s" % name
        if choice == 7:
            self.add("*.w%d" % k, "TXT", '"wild %d"' % k)
            return "wildcard *.w%d" % k
        if choice == 8 and existing["deep"]:
            i = existing["deep"][rng.randrange(len(existing["deep"]))]
            self.add("b%d" % i, "A", "203.0.113.%d" % (i + 1))
            return "data at the ENT b%d" % i
        # several writes in one publication
        for j in range(3):
            self.add("m%d-%d" % (k, j), "AAAA", "2001:db8::%x" % (k * 4 + j), wait=j == 2)
        assert all(self.published("m%d-%d" % (k, j), "AAAA") for j in range(3))
        return "three names in one publication"


@pytest.mark.parametrize("denial", ["nsec3", "nsec", "nsec3-optout"])
def test_incremental_publication_matches_a_full_signing(tmp_path, denial):
    policy = {"verify": '"standard"'}
    if denial == "nsec":
        policy["denial"] = '"nsec"'
    elif denial == "nsec3-optout":
        policy["nsec3_opt_out"] = "true"
    s = Setup(tmp_path / "d", [ZONE], policy)
    s.write_zone(ZONE, base_zone())
    ref = Setup(tmp_path / "ref", [ZONE], policy, api=False)
    d = Daemon(s)
    try:
        d.wait_ready()
        w = Writer(Client(s.api_socket), random.Random(7 if denial == "nsec" else 11),
                   s.output_file(ZONE))
        existing = {"leaves": ["h%d" % i for i in range(300)], "deep": list(range(40)),
                    "cuts": ["del1"]}
        done = []
        for _ in range(30):
            done.append(w.step(existing))
            pub = parse(s.output_file(ZONE))
            soa = [r for r in pub if r[2] == "SOA"][0]
            ref.write_zone(ZONE, "".join("%s %d IN %s %s\n" % r
                                         for r in [soa] + data_of(pub)))
            ref.sign()
            full = parse(ref.output_file(ZONE))
            what = "after: " + "; ".join(done)
            assert data_of(pub) == data_of(full), what
            assert denial_of(pub) == denial_of(full), what
            assert signed_of(pub) == signed_of(full), what
            if len(done) % 10 == 0:
                ldns_verify(s.output_file(ZONE))
                # the write-back (due within 5 s) holds the same data, copied in large
                # part from the previous write-back's text
                want = [r for r in data_of(pub) if r[3] not in PLATFORM_NS]
                deadline = time.monotonic() + 15
                while written_back(s.input_file(ZONE)) != want:
                    assert time.monotonic() < deadline, \
                        "write-back differs from the published data " + what
                    time.sleep(0.2)
        log = d.log_text()
        inc = log.count("changed names only")
        # most publications took the incremental path (else this test proves little)
        assert inc >= 20, "only %d incremental publications:\n%s" % (inc, log[-3000:])
    finally:
        d.close()
