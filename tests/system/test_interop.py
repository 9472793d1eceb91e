# SPDX-License-Identifier: MIT
"""Keys move both ways between zonekeeper and the other tools: keys made by dnssec-keygen
and ldns-keygen sign with zonekeeper; zonekeeper's keys sign with dnssec-signzone and load
in Knot's keymgr. Every output passes the validators."""
import re

import pytest

from zktest.tools import Setup, assert_valid_everywhere, bind_verify, ldns_verify, need, run, zk
from zktest.zones import SIMPLE

ZONE = "example.com."


def import_key(s, path, *role):
    return zk("key", "import", "--config", s.config, "--zone", ZONE, *role, path, check=True)


@pytest.mark.parametrize("tool", ["dnssec-keygen", "ldns-keygen"])
def test_foreign_keys_sign_with_zonekeeper(tmp_path, tool):
    need(tool)
    keys = tmp_path / "foreign"
    keys.mkdir()
    if tool == "dnssec-keygen":
        alg = "ECDSAP256SHA256"
        run([tool, "-q", "-K", keys, "-a", alg, "-f", "KSK", ZONE], check=True)
        run([tool, "-q", "-K", keys, "-a", alg, ZONE], check=True)
    else:
        alg = "ED25519"
        run([tool, "-a", alg, "-k", ZONE], cwd=keys, check=True)
        run([tool, "-a", alg, ZONE], cwd=keys, check=True)
    s = Setup(tmp_path / "zk", [ZONE], {"algorithm": '"%s"' % alg})
    s.write_zone(ZONE, SIMPLE.format(origin=ZONE))
    tags = set()
    for k in sorted(keys.glob("K*.key")):
        p = import_key(s, k)
        tags.add(int(re.search(r"tag (\d+)", p.stdout).group(1)))
    assert len(tags) == 2
    p = s.sign()
    assert "generated" not in p.stdout  # the imported keys are used, none are made
    out = s.output_file(ZONE)
    published = set()
    for l in out.read_text().splitlines():
        f = l.split("\t")
        if len(f) == 5 and f[3] == "RRSIG":
            published.add(int(f[4].split()[6]))
    assert published == tags
    assert_valid_everywhere(out, ZONE)


def test_zonekeeper_keys_sign_with_dnssec_signzone(tmp_path):
    need("dnssec-signzone")
    s = Setup(tmp_path, [ZONE])
    s.write_zone(ZONE, SIMPLE.format(origin=ZONE))
    s.sign()
    keydir = s.key_dir(ZONE)
    bases = sorted(str(k)[:-4] for k in keydir.glob("K*.key"))
    assert len(bases) == 2
    signed = tmp_path / "bind.signed"
    # smart signing (-S) finds the keys and their timing metadata in our key directory
    p = run(["dnssec-signzone", "-P", "-S", "-K", keydir, "-3", "-", "-H", "0", "-o", ZONE,
             "-f", signed, s.input_file(ZONE)], check=True, cwd=tmp_path)
    p = bind_verify(signed, ZONE)
    assert p.returncode == 0, p.stdout + p.stderr
    p = ldns_verify(signed)
    assert p.returncode == 0, p.stdout + p.stderr
    # BIND signed with exactly our two keys
    ours = {int(b.rsplit("+", 1)[1]) for b in bases}
    flat = run(["ldns-read-zone", signed], check=True).stdout
    theirs = {int(l.split()[10]) for l in flat.splitlines()
              if len(l.split()) > 10 and l.split()[3] == "RRSIG"}
    assert theirs == ours, (theirs, ours)


def test_zonekeeper_keys_load_in_knot_keymgr(tmp_path):
    need("keymgr")
    s = Setup(tmp_path, [ZONE])
    s.write_zone(ZONE, SIMPLE.format(origin=ZONE))
    s.sign()
    kasp = tmp_path / "kasp"
    kasp.mkdir()
    roles = {}
    for k in sorted(s.key_dir(ZONE).glob("K*.key")):
        run(["keymgr", "-D", kasp, ZONE, "import-bind", str(k)[:-4]], check=True)
        zk_role = re.search(r"(key|zone)-signing key", k.read_text()).group(1)
        roles[int(str(k)[:-4].rsplit("+", 1)[1])] = "KSK" if zk_role == "key" else "ZSK"
    listed = run(["keymgr", "-D", kasp, ZONE, "list"], check=True).stdout
    for tag, role in roles.items():
        assert re.search(r"\b%d %s ECDSAP256SHA256" % (tag, role), listed), listed


def test_signing_is_unchanged_with_the_same_keys_after_import_roundtrip(tmp_path):
    """A zonekeeper key copied into another zone store keeps its tag and role."""
    a = Setup(tmp_path / "a", [ZONE])
    a.write_zone(ZONE, SIMPLE.format(origin=ZONE))
    a.sign()
    b = Setup(tmp_path / "b", [ZONE])
    b.write_zone(ZONE, SIMPLE.format(origin=ZONE))
    for k in sorted(a.key_dir(ZONE).glob("K*.key")):
        import_key(b, k)
    b.sign()
    ka = zk("keys", "--config", a.config, "--zone", ZONE, "--json", check=True).stdout
    kb = zk("keys", "--config", b.config, "--zone", ZONE, "--json", check=True).stdout
    import json
    ta = sorted((k["tag"], k["role"]) for k in json.loads(ka)["keys"])
    tb = sorted((k["tag"], k["role"]) for k in json.loads(kb)["keys"])
    assert ta == tb and len(ta) == 2
    assert_valid_everywhere(b.output_file(ZONE), ZONE)
