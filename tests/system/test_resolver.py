# SPDX-License-Identifier: MIT
"""The signed edge-case zone (zktest/zones.py) served on loopback by NSD, Knot, BIND and
PowerDNS and resolved through a validating Unbound whose only trust anchor is our DS:
positive answers, NXDOMAIN, NODATA, wildcard expansions and a secure delegation come back
authenticated (AD); an insecure delegation comes back insecure, never SERVFAIL. Under
sanitizers only NSD runs (the servers, not our code, take the time)."""
import os

import dns.flags
import dns.rcode
import pytest

from zktest.servers import Knot, Named, Nsd, Pdns, Unbound, query
from zktest.tools import Setup
from zktest.zones import child_zone, edge_zone

PARENT, CHILD, INSECURE = "edge.test.", "sub.edge.test.", "insecure.edge.test."


SERVERS = {"nsd": Nsd, "knot": Knot, "bind": Named, "powerdns": Pdns}
# `make check`: the default algorithm; `make interop` (ZK_INTEROP=full): every algorithm
# and both key layouts (opt-out, whose proofs are insecure by design: test_serving.py)
CONFIGS = {"nsec3": {"denial": '"nsec3"'}, "nsec": {"denial": '"nsec"'}}
if os.environ.get("ZK_INTEROP") == "full":
    CONFIGS = {"%s-%s-%s" % (alg, keys, d): {"denial": '"%s"' % d, "algorithm": '"%s"' % alg,
                                             "keys": '"%s"' % keys}
               for alg in ("RSASHA256", "ECDSAP256SHA256", "ECDSAP384SHA384", "ED25519",
                           "ED448")
               for keys in ("ksk-zsk", "csk") for d in ("nsec3", "nsec")}


@pytest.fixture(scope="module", params=[
    pytest.param((config, server), id="%s-%s" % (config, server),
                 marks=() if server == "nsd" else pytest.mark.slow)
    for server in SERVERS for config in CONFIGS])
def resolver(request, tmp_path_factory):
    config, server = request.param
    root = tmp_path_factory.mktemp("resolver-%s-%s" % (config, server))
    s = Setup(root, [PARENT, CHILD], CONFIGS[config])
    s.write_zone(CHILD, child_zone(CHILD))
    s.sign("--zone", CHILD)
    child_ds = s.ds(CHILD)
    assert child_ds, "no DS for the child"
    # the parent delegates to the child with the child's real DS
    parent = edge_zone(longest_name=False).replace(
        "sub IN DS 60485 13 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A",
        "\n".join("sub IN DS " + l.split("\t")[4] for l in child_ds))
    s.write_zone(PARENT, parent)
    s.sign("--zone", PARENT)
    insecure = root / "insecure.zone"
    # its NS needs an address for BIND to load it
    insecure.write_text(child_zone(INSECURE).replace("ns1 IN A", "ns IN A") +
                        "ns1 IN A 192.0.2.53\n")
    srv = SERVERS[server](root / server, {PARENT: s.output_file(PARENT),
                                          CHILD: s.output_file(CHILD), INSECURE: insecure})
    anchors = [l.replace("\t", " ") for l in s.ds(PARENT)]
    addr = "127.0.0.1@%d" % srv.port
    unbound = None
    try:
        unbound = Unbound(root / "unbound", [(PARENT, addr), (CHILD, addr), (INSECURE, addr)],
                          anchors)
        yield unbound
    finally:
        if unbound:
            unbound.stop()
        srv.stop()


def answer(resolver, name, rdtype):
    r = query(resolver.port, name, rdtype)
    assert r.rcode() != dns.rcode.SERVFAIL, "SERVFAIL for %s %s" % (name, rdtype)
    return r


def authenticated(r):
    return bool(r.flags & dns.flags.AD)


def test_positive_answer_is_authenticated(resolver):
    r = answer(resolver, "www.edge.test.", "A")
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    assert authenticated(r)


def test_apex_and_dnskey_are_authenticated(resolver):
    for t in ("SOA", "NS", "DNSKEY", "MX", "CAA"):
        r = answer(resolver, "edge.test.", t)
        assert r.answer and authenticated(r), t


def test_nxdomain_is_authenticated(resolver):
    r = answer(resolver, "does-not-exist.edge.test.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert authenticated(r)


def test_nodata_is_authenticated(resolver):
    r = answer(resolver, "www.edge.test.", "TXT")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer
    assert authenticated(r)


def test_empty_non_terminal_nodata_is_authenticated(resolver):
    r = answer(resolver, "c.ent.edge.test.", "A")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer
    assert authenticated(r)


def test_wildcard_expansion_is_authenticated(resolver):
    r = answer(resolver, "anything.wild.edge.test.", "A")
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    assert authenticated(r)
    r = answer(resolver, "anything.wild.edge.test.", "TXT")
    assert r.answer and authenticated(r)
    # wildcard NODATA: the name matches the wildcard, the type does not
    r = answer(resolver, "other.wild.edge.test.", "MX")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer and authenticated(r)


def test_secure_delegation_is_authenticated(resolver):
    r = answer(resolver, "host.sub.edge.test.", "A")
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    assert authenticated(r)


def test_insecure_delegation_is_insecure_not_servfail(resolver):
    r = answer(resolver, "host.insecure.edge.test.", "A")
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    assert not authenticated(r)


def test_special_names_are_authenticated(resolver):
    for name, t in (("mixed.case.edge.test.", "A"), ("big.edge.test.", "A"),
                    ("long.edge.test.", "TXT"), ("generic.edge.test.", "TYPE65280")):
        r = answer(resolver, name, t)
        assert r.answer and authenticated(r), (name, t)
