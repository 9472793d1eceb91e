# SPDX-License-Identifier: MIT
"""Signed output passes three independent validators for every algorithm and denial
mode, on the example zone and on a zone full of edge cases."""
import pytest

from zktest.tools import Setup, assert_valid_everywhere, zk
from zktest.zones import SIMPLE, edge_zone

ALGORITHMS = [("ECDSAP256SHA256", 13), ("ED25519", 15), ("RSASHA256", 8)]


@pytest.mark.parametrize("denial", ["nsec", "nsec3"])
@pytest.mark.parametrize("alg,number", ALGORITHMS)
def test_edge_zone_validates(tmp_path, alg, number, denial):
    s = Setup(tmp_path, ["edge.test."], {"algorithm": '"%s"' % alg, "denial": '"%s"' % denial})
    s.write_zone("edge.test.", edge_zone())
    p = s.sign()
    assert "published serial" in p.stdout
    out = s.output_file("edge.test.")
    text = out.read_text()
    assert (" NSEC3 " in text or "\tNSEC3\t" in text) == (denial == "nsec3")
    assert "\tRRSIG\tA %d " % number in text
    assert_valid_everywhere(out, "edge.test.")


def test_csk_and_ecdsa384_validate(tmp_path):
    s = Setup(tmp_path, ["edge.test."], {"algorithm": '"ECDSAP384SHA384"', "keys": '"csk"'})
    s.write_zone("edge.test.", edge_zone())
    s.sign()
    keys = zk("keys", "--config", s.config, "--zone", "edge.test.", check=True).stdout
    rows = [l.split() for l in keys.splitlines()[1:] if l and l.split()[0].isdigit()]
    assert [r[1] for r in rows] == ["CSK"], keys
    assert "KSK" not in keys and "ZSK" not in keys
    assert_valid_everywhere(s.output_file("edge.test."), "edge.test.", csk=True)


def test_ed448_validates_if_supported(tmp_path):
    s = Setup(tmp_path, ["edge.test."], {"algorithm": '"ED448"'})
    s.write_zone("edge.test.", edge_zone())
    p = s.sign(check=False)
    if p.returncode != 0 and "UNSUPPORTED" in p.stderr:
        pytest.skip("this OpenSSL cannot sign with Ed448: " + p.stderr.strip())
    assert p.returncode == 0, p.stderr
    out = s.output_file("edge.test.")
    # BIND 9.18 and Knot 3.2 validate Ed448; ldns 1.8 with OpenSSL 3 too
    assert_valid_everywhere(out, "edge.test.")


def test_example_zone_validates(tmp_path):
    s = Setup(tmp_path, ["example.com."])
    s.write_zone("example.com.", SIMPLE.format(origin="example.com."))
    s.sign()
    assert_valid_everywhere(s.output_file("example.com."), "example.com.")


def test_nsec3_with_salt_and_opt_out_validates(tmp_path):
    s = Setup(tmp_path, ["edge.test."], {"nsec3_salt_length": "8", "nsec3_opt_out": "true"})
    s.write_zone("edge.test.", edge_zone())
    p = s.sign()
    out = s.output_file("edge.test.")
    text = out.read_text()
    param = [l for l in text.splitlines() if "\tNSEC3PARAM\t" in l][0]
    salt = param.split()[-1]
    assert len(salt) == 16, param  # 8 bytes of salt, in hex
    # opt-out: insecure delegations get no NSEC3 record, and the flag is set
    assert "\tNSEC3\t1 1 0 %s " % salt in text
    assert_valid_everywhere(out, "edge.test.")
    # the salt is kept across runs (invariant 23)
    s.write_zone("edge.test.", edge_zone() + "new IN A 192.0.2.77\n")
    s.sign()
    text2 = out.read_text()
    assert param in text2
    assert "warning" in p.stderr  # salt and opt-out are discouraged (RFC 9276)


def test_exact_bitmaps_at_wildcard_and_delegations(tmp_path):
    """Invariant 18: bitmaps are exactly the types present (Slack 2021)."""
    s = Setup(tmp_path, ["edge.test."], {"denial": '"nsec"'})
    s.write_zone("edge.test.", edge_zone())
    s.sign()
    nsec = {}
    for l in s.output_file("edge.test.").read_text().splitlines():
        f = l.split("\t")
        if len(f) == 5 and f[3] == "NSEC":
            nsec[f[0]] = set(f[4].split()[1:])
    assert nsec["*.wild.edge.test."] == {"A", "TXT", "RRSIG", "NSEC"}
    # secure delegation: NS and DS, never the glue
    assert nsec["sub.edge.test."] == {"NS", "DS", "RRSIG", "NSEC"}
    # insecure delegation: NS only (plus the NSEC's own RRSIG)
    assert nsec["insecure.edge.test."] == {"NS", "RRSIG", "NSEC"}
    assert "ns1.sub.edge.test." not in nsec  # glue gets no NSEC
    assert "c.ent.edge.test." not in nsec  # empty non-terminals neither, with NSEC
    apex = nsec["edge.test."]
    assert {"SOA", "NS", "DNSKEY", "RRSIG", "NSEC"} <= apex and "NSEC3PARAM" not in apex


def test_no_signatures_over_delegation_ns_or_glue(tmp_path):
    s = Setup(tmp_path, ["edge.test."])
    s.write_zone("edge.test.", edge_zone())
    s.sign()
    covered = set()
    for l in s.output_file("edge.test.").read_text().splitlines():
        f = l.split("\t")
        if len(f) == 5 and f[3] == "RRSIG":
            covered.add((f[0], f[4].split()[0]))
    assert ("sub.edge.test.", "DS") in covered
    assert ("sub.edge.test.", "NS") not in covered
    assert ("ns1.sub.edge.test.", "A") not in covered
    assert ("insecure.edge.test.", "NS") not in covered
    assert ("edge.test.", "NS") in covered
