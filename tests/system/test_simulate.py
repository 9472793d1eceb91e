# SPDX-License-Identifier: MIT
"""`zonekeeper simulate`: the key timeline of a policy over two years, checked against the
RFC 7583 intervals computed here from the policy's settings (not read from the program)."""
import json

from zktest.tools import POLICY_DEFAULTS, Setup, zk

DAY = 86400
H = 3600
START = 1800000000
# the policy settings these tests use, in seconds
P = dict(dnskey_ttl=H, dprp=5 * 60, publish_safety=H, retire_safety=H, max_zone_ttl=DAY,
         validity=14 * DAY, refresh=7 * DAY, ds_ttl=DAY, dprp_parent=H)
IPUB = P["dprp"] + P["dnskey_ttl"] + P["publish_safety"]
IRET_ZSK = (P["validity"] - P["refresh"]) + P["dprp"] + P["max_zone_ttl"] + P["retire_safety"]
IRET_KSK = P["dprp_parent"] + P["ds_ttl"] + P["retire_safety"]

POLICY = {
    "dnskey_ttl": '"1h"', "propagation_delay": '"5m"', "publish_safety": '"1h"',
    "retire_safety": '"1h"', "max_zone_ttl": '"1d"', "rrsig_validity": '"14d"',
    "rrsig_refresh": '"7d"', "parent_ds_ttl": '"1d"', "parent_propagation_delay": '"1h"',
    "zsk_lifetime": '"90d"', "ksk_lifetime": '"365d"',
}


def simulate(tmp_path, days=730, policy=None, *extra):
    pol = dict(POLICY)
    pol.update(policy or {})
    s = Setup(tmp_path, ["example.com."], policy=pol)
    p = zk("simulate", "--config", s.config, "--zone", "example.com.", "--days", str(days),
           "--start", str(START), "--json", *extra, check=True)
    return json.loads(p.stdout)["events"]


def keys_of(events, role):
    """Tags of the keys of `role` in the order they were generated (tags are random)."""
    tags = []
    for e in events:
        if e["role"] == role and e["tag"] not in tags:
            tags.append(e["tag"])
    return tags


def first(events, tag, what):
    times = [e["unixtime"] for e in events if e["tag"] == tag and e["event"].startswith(what)]
    return times[0] if times else None


def test_zsk_and_ksk_rollovers_follow_rfc7583(tmp_path):
    ev = simulate(tmp_path)
    assert [e["unixtime"] for e in ev] == sorted(e["unixtime"] for e in ev)
    zsks = keys_of(ev, "ZSK")
    ksks = keys_of(ev, "KSK")
    # 730 days: a ZSK every 90 days of signing; a KSK every 365 days from its DS being in
    # every cache (day 2), so the second KSK's successor falls after day 730
    assert len(zsks) == 9, zsks
    assert len(ksks) == 2, ksks
    for old, new in zip(zsks, zsks[1:]):
        pub = first(ev, new, "DNSKEY published")
        act = first(ev, new, "active")
        ret = first(ev, old, "retired")
        rem = first(ev, old, "DNSKEY removed")
        # pre-publication: signing only Ipub after publication, never earlier
        assert act - pub == IPUB
        # the old key stops when the new one starts, and its DNSKEY stays Iret longer
        assert ret == act
        if rem is not None:
            assert rem - ret == IRET_ZSK
        # the lifetime: 90 days of signing
        assert act - first(ev, old, "active") == 90 * DAY
    for old, new in zip(ksks, ksks[1:]):
        sub = first(ev, new, "DS submitted")
        assert sub - first(ev, new, "DNSKEY published") == IPUB
        seen = first(ev, new, "DS seen")
        assert seen - sub == P["dprp_parent"]
        # the old KSK leaves only once the new DS is in every cache
        rem = first(ev, old, "DNSKEY removed")
        assert rem == seen + IRET_KSK
        assert first(ev, new, "DS in every cache") == rem


def test_ksk_rollover_waits_for_a_parent_that_never_publishes(tmp_path):
    ev = simulate(tmp_path, 500, None, "--ds-delay", "never")
    ksks = keys_of(ev, "KSK")
    assert len(ksks) == 1  # the first DS is never seen: the KSK never becomes "active"
    assert any(e["event"] == "waiting for DS %d at the parent" % ksks[0] for e in ev)
    assert first(ev, ksks[0], "DNSKEY removed") is None


def test_ksk_rollover_stalls_with_both_keys_until_the_ds_is_seen(tmp_path):
    # the parent takes 300 days: the rollover starting after a year waits with both KSKs
    ev = simulate(tmp_path, 730, None, "--ds-delay", "300d")
    ksks = keys_of(ev, "KSK")
    assert len(ksks) == 2
    old, new = ksks
    sub = first(ev, new, "DS submitted")
    rem = first(ev, old, "DNSKEY removed")
    assert rem is None or rem >= sub + 300 * DAY + IRET_KSK


def test_csk_policy(tmp_path):
    ev = simulate(tmp_path, 730, {"keys": '"csk"'})
    csks = keys_of(ev, "CSK")
    assert {e["role"] for e in ev} == {"CSK"}
    assert len(csks) == 3
    removed = 0
    for old, new in zip(csks, csks[1:]):
        rem = first(ev, old, "DNSKEY removed")
        if rem is not None:
            # a CSK leaves only once its successor's DS and signatures are everywhere
            assert rem >= first(ev, new, "DS in every cache")
            assert rem >= first(ev, new, "its zone signatures in every cache")
            removed += 1
    assert removed >= 1


def test_bad_arguments_are_usage_errors(tmp_path):
    s = Setup(tmp_path, ["example.com."], policy=POLICY)
    assert zk("simulate", "--config", s.config, "--zone", "example.com.").returncode == 2
    p = zk("simulate", "--config", s.config, "--zone", "nope.", "--days", "10")
    assert p.returncode == 2 and "no zone" in p.stderr
    p = zk("simulate", "--config", s.config, "--zone", "example.com.", "--days", "10",
           "--ds-delay", "soon")
    assert p.returncode == 2 and "--ds-delay" in p.stderr


# ------------------------------------------------------------------ --out: the real signer

SIMPLE = ("$TTL 300\n@ SOA ns1.example.net. h.example.net. 1 1h 15m 14d 1h\n"
          "www A 192.0.2.1\n")


def simulate_out(tmp_path, days, policies, *extra):
    """Sign for real over `days` simulated days; the timeline and the versions."""
    policies = {k: dict(POLICY_DEFAULTS, **v) for k, v in policies.items()}
    s = Setup(tmp_path, [("example.com.", "default")], policies=policies)
    s.write_zone("example.com.", SIMPLE)
    out = tmp_path / "sim"
    p = zk("simulate", "--config", s.config, "--zone", "example.com.", "--days", str(days),
           "--start", str(START), "--out", out, *extra, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    tl = json.loads((out / "timeline.json").read_text())
    versions = [(v["time"], (out / v["file"]).read_text(), v) for v in tl["versions"]]
    return tl, versions, p


def rrs(text, rtype):
    return [l.split("\t")[4] for l in text.splitlines()
            if len(l.split("\t")) > 4 and l.split("\t")[3] == rtype]


def at(versions, t):
    """The version current at time t."""
    return [v for v in versions if v[0] <= t][-1]


def test_going_insecure_withdraws_the_ds_before_anything_else(tmp_path):
    """Invariant 14: CDS/CDNSKEY delete, every key and signature kept until the DS can be
    in no cache (seen gone + parent_ds_ttl + parent_propagation_delay), then unsigned."""
    pol = dict(POLICY)
    off = dict(POLICY, insecure="true")
    tl, versions, _ = simulate_out(tmp_path, 60, {"default": pol, "off": off},
                                   "--switch", "30:off")
    switch = START + 30 * DAY
    before = at(versions, switch - 1)[1]
    assert rrs(before, "CDS") and "0 0 0 00" not in rrs(before, "CDS")
    # the DS leaves the parent once the delete form is out
    gone = [p["time"] for p in tl["parent"] if p["time"] >= switch and not p["ds"]]
    assert gone, tl["parent"]
    gone = gone[0]
    for t, text, _ in versions:
        if switch <= t < gone + P["ds_ttl"] + P["dprp_parent"]:
            # exactly one record each, never mixed with keys (RFC 8078 §4)
            assert rrs(text, "CDS") == ["0 0 0 00"], (t, rrs(text, "CDS"))
            assert rrs(text, "CDNSKEY") == ["0 3 0 AA=="]
            assert len(rrs(text, "DNSKEY")) == 2 and rrs(text, "RRSIG")
            assert rrs(text, "NSEC3PARAM")
    last = versions[-1][1]
    assert versions[-1][0] >= gone + P["ds_ttl"] + P["dprp_parent"]
    for rtype in ("DNSKEY", "RRSIG", "NSEC3", "NSEC3PARAM", "CDS", "CDNSKEY"):
        assert not rrs(last, rtype), rtype
    assert rrs(last, "A") == ["192.0.2.1"] and rrs(last, "SOA")
    # and it stays so: no republication of the same unsigned zone
    assert sum(1 for v in versions if not rrs(v[1], "DNSKEY")) == 1


def test_dnskey_answer_size_is_measured_and_warned_over_budget(tmp_path):
    """Invariant 28: RSA-2048 double-KSK is the worst case; a tight budget warns."""
    rsa = dict(POLICY, algorithm='"RSASHA256"', dnskey_size_budget="1000")
    tl, versions, p = simulate_out(tmp_path, 20, {"default": rsa})
    sizes = [v[2]["dnskey_response"] for v in versions]
    # two RSA DNSKEYs and one RSA RRSIG: about 12 + 17 + 2 * 276 + 287 + 11 bytes
    assert all(800 < s < 1000 for s in sizes), sizes
    ecdsa = dict(POLICY)
    tl, versions, p2 = simulate_out(tmp_path / "ec", 20, {"default": ecdsa})
    assert all(v[2]["dnskey_response"] < 400 for v in versions)
    assert "over the" not in p2.stderr
    # a KSK rollover puts a third RSA key and a second RRSIG in: over 1000 bytes
    tl, versions, p3 = simulate_out(tmp_path / "roll", 400, {"default": dict(rsa, ksk_lifetime='"100d"')})
    big = [v[2]["dnskey_response"] for v in versions if v[2]["dnskey_response"] > 1000]
    assert big, [v[2]["dnskey_response"] for v in versions]
    assert "DNSKEY answer of example.com. is %d bytes, over the 1000-byte budget" % big[0] \
        in p3.stderr


def dnskey_tag(rdata):
    """RFC 4034 Appendix B key tag of a DNSKEY in presentation form."""
    import base64
    import struct
    flags, proto, alg, key = rdata.split(None, 3)
    wire = struct.pack("!HBB", int(flags), int(proto), int(alg)) + \
        base64.b64decode("".join(key.split()))
    acc = sum(b << 8 if i % 2 == 0 else b for i, b in enumerate(wire))
    return (acc + (acc >> 16)) & 0xFFFF


def test_cds_and_cdnskey_follow_invariants_15(tmp_path):
    """Over a year with a KSK rollover: CDS and CDNSKEY list the same keys; a key only
    once its DNSKEY has been published for IpubC; only the configured digest type; the
    RRsets signed by a KSK whose DS is at the parent (once the parent has one)."""
    pol = dict(POLICY, ksk_lifetime='"120d"')
    tl, versions, _ = simulate_out(tmp_path, 300, {"default": pol})
    first_seen = {}
    parent = [(p["time"], {int(d.split()[4]) for d in p["ds"]}) for p in tl["parent"]]
    cds_versions = 0
    for t, text, _ in versions:
        keys = {dnskey_tag(k): k for k in rrs(text, "DNSKEY")}
        for tag in keys:
            first_seen.setdefault(tag, t)
        cds = rrs(text, "CDS")
        cdnskey = rrs(text, "CDNSKEY")
        cds_tags = {int(c.split()[0]) for c in cds}
        assert {dnskey_tag(k) for k in cdnskey} == cds_tags, (t, cds, cdnskey)
        assert all(c.split()[2] == "2" for c in cds)          # SHA-256 only, as configured
        assert all(int(k.split()[0]) == 257 for k in cdnskey)  # KSKs only
        for tag in cds_tags:
            assert tag in keys
            assert t - first_seen[tag] >= P["dprp"] + P["dnskey_ttl"] + P["publish_safety"]
        if cds:
            cds_versions += 1
            at_parent = [ds for pt, ds in parent if pt <= t][-1]
            signers = {int(l.split("\t")[4].split()[6]) for l in text.splitlines()
                       if "\tRRSIG\tCDS " in l}
            if at_parent:
                assert signers & at_parent, (t, signers, at_parent)
    assert cds_versions > 10
    # two KSK rollovers in 300 days: the parent's DS set changed three times
    assert len([p for p in tl["parent"] if p["ds"]]) >= 3, tl["parent"]
