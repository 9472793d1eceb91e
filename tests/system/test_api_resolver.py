# SPDX-License-Identifier: MIT
"""Records written through the API reach a validating resolver: a secure delegation (NS,
glue, DS) and an A record added with ?wait=published, the published zone served by NSD on
loopback, Unbound validating with our DS as its only trust anchor, answers with AD."""
import dns.flags
import dns.rcode
import pytest

from zktest.api import Client, covered, find, zone_records
from zktest.daemon import Daemon
from zktest.servers import Nsd, Unbound, query
from zktest.tools import Setup
from zktest.zones import SIMPLE, child_zone

PARENT, CHILD = "api.test.", "sub.api.test."


@pytest.fixture(scope="module", params=["nsec3", "nsec"])
def resolver(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("api-resolver-" + request.param)
    policy = {"denial": '"%s"' % request.param}
    # the child, signed once with the command line
    cs = Setup(root / "child", [CHILD], policy, api=False)
    cs.write_zone(CHILD, child_zone(CHILD))
    cs.sign("--zone", CHILD)
    child_ds = [l.split("\t")[4] for l in cs.ds(CHILD)]
    assert child_ds, "no DS for the child"
    # the parent, run by the daemon, the delegation and an A written through the API
    ps = Setup(root / "parent", [PARENT], policy)
    ps.write_zone(PARENT, SIMPLE.format(origin=PARENT))
    d = Daemon(ps)
    nsd = unbound = None
    try:
        d.wait_ready()
        c = Client(ps.api_socket)
        writes = [("sub", "NS", "ns1.sub"), ("sub", "NS", "ns2.sub"),
                  ("ns1.sub", "A", "192.0.2.53"), ("ns2.sub", "AAAA", "2001:db8::53")]
        writes += [("sub", "DS", ds) for ds in child_ds]
        writes += [("viaapi", "A", "192.0.2.123")]
        for i, (name, rtype, content) in enumerate(writes):
            r = c.post(PARENT, {"name": name, "type": rtype, "content": content},
                       wait=(i == len(writes) - 1))
            assert r.status == 201, (name, rtype, r)
        out = ps.output_file(PARENT)
        recs = zone_records(out)
        assert find(recs, "viaapi.api.test.", "A", "192.0.2.123")
        assert covered(recs, "sub.api.test.", "DS")
        nsd = Nsd(root / "nsd", {PARENT: out, CHILD: cs.output_file(CHILD)})
        anchors = [l.replace("\t", " ") for l in ps.ds(PARENT)]
        addr = "127.0.0.1@%d" % nsd.port
        unbound = Unbound(root / "unbound", [(PARENT, addr), (CHILD, addr)], anchors)
        yield unbound
    finally:
        if unbound:
            unbound.stop()
        if nsd:
            nsd.stop()
        d.close()


def answer(resolver, name, rdtype):
    r = query(resolver.port, name, rdtype)
    assert r.rcode() == dns.rcode.NOERROR, "%s for %s %s" % (dns.rcode.to_text(r.rcode()),
                                                            name, rdtype)
    return r


def test_a_record_written_through_the_api_is_authenticated(resolver):
    r = answer(resolver, "viaapi.api.test.", "A")
    assert r.answer and r.flags & dns.flags.AD, r


def test_ds_of_the_delegation_is_authenticated(resolver):
    r = answer(resolver, "sub.api.test.", "DS")
    assert r.answer and r.flags & dns.flags.AD, r


def test_name_in_the_child_is_authenticated(resolver):
    r = answer(resolver, "host.sub.api.test.", "A")
    assert r.answer and r.flags & dns.flags.AD, r
