# SPDX-License-Identifier: MIT
"""Invariant 11: every published version validates for every cache state a resolver can
hold. `zonekeeper simulate --out` signs a zone for real over two simulated years (ZSK
pre-publication, double-KSK and algorithm rollovers; CSK rollovers) and records every
published version and the DS sets the simulated parent served. Here, independently of the
signer, every version goes through ldns-verify-zone (and some through dnssec-verify), and
at every key event the chain DS -> DNSKEY -> data is validated with dnspython for every
combination of DNSKEY RRset, DS set and data RRsets a cache may still hold."""
import bisect
import json
import time
from pathlib import Path

import pytest

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.zone

from zktest.tools import POLICY_DEFAULTS, Setup, bind_verify, need, run, zk
from zktest.zones import SIMPLE

# dns.dnssec.validate needs python3-cryptography (only a Recommends of python3-dnspython)
pytest.importorskip("cryptography", reason="python3-cryptography is not installed")

DAY = 86400
DAYS = 730
ZONE = "example.test."
ORIGIN = dns.name.from_text(ZONE)
LIFETIMES = {"zsk_lifetime": '"90d"', "ksk_lifetime": '"365d"'}
SWITCH_DAY = 200  # (a): the algorithm rollover 13 -> 15 starts here
# Where real time falls in the simulated span, in days from its start: dnssec-verify has no
# option for the validation time, so the simulation starts that many days before today and
# the versions whose signatures are valid now are the ones around the rollover steps that
# follow (a: the new algorithm's DNSKEYs on day 208, the DS swap, the old algorithm's keys
# leaving on day 209; b: a CSK rollover on days 180 to 188).
NOW_AT = {"alg": 210, "csk": 189}
DELTA = 60  # the checks run at each key event, and this much before and after it


# ---------------------------------------------------------------------------- the runs

def policies(case):
    base = dict(POLICY_DEFAULTS)
    base.update(LIFETIMES)
    if case == "csk":  # a CSK rolls with ksk_lifetime
        base.update({"keys": '"csk"', "ksk_lifetime": '"180d"'})
        return {"default": base}
    ed = dict(base)
    ed["algorithm"] = '"ED25519"'
    return {"default": base, "ed": ed}


def simulate(root, case):
    s = Setup(root, [(ZONE, "default")], policies=policies(case))
    s.write_zone(ZONE, SIMPLE.format(origin=ZONE))
    today = int(time.time()) // DAY * DAY
    start = today - NOW_AT[case] * DAY
    out = Path(root) / "sim"
    args = ["simulate", "--config", s.config, "--zone", ZONE, "--days", str(DAYS),
            "--start", str(start), "--out", out]
    if case == "alg":
        args += ["--switch", "%d:ed" % SWITCH_DAY]
    t0 = time.monotonic()
    zk(*args, check=True, timeout=600)
    print("simulate %s: %.1f s, start %d" % (case, time.monotonic() - t0, start))
    timeline = json.loads((out / "timeline.json").read_text())
    versions = [Version(v["time"], out / v["file"]) for v in timeline["versions"]]
    return timeline, versions


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """Each simulation once per module: the tests and the negative controls share it."""
    runs = {}

    def get(case):
        if case not in runs:
            runs[case] = simulate(tmp_path_factory.mktemp(case), case)
        return runs[case]
    return get


# ---------------------------------------------------------------------------- the versions

class Version:
    """One published version: its DNSKEY RRset and the data RRsets the check uses, each
    with its RRSIGs."""

    def __init__(self, t, path):
        self.time = t
        self.path = Path(path)
        self.name = self.path.name
        z = dns.zone.from_file(str(path), origin=ORIGIN, relativize=False)
        self.dnskey = self.rrset(z, ORIGIN, dns.rdatatype.DNSKEY)
        self.algorithms = {k.algorithm for k in self.dnskey[0][1]}
        www = dns.name.from_text("www", ORIGIN)
        self.data = {"SOA": self.rrset(z, ORIGIN, dns.rdatatype.SOA),
                     "www A": self.rrset(z, www, dns.rdatatype.A)}
        self.data.update(self.denial(z))
        self.rrsigs = [sig for node in z.nodes.values() for rds in node.rdatasets
                       if rds.rdtype == dns.rdatatype.RRSIG for sig in rds]

    @staticmethod
    def rrset(z, name, rdtype):
        rds = z.get_rdataset(name, rdtype)
        sigs = z.get_rdataset(name, dns.rdatatype.RRSIG, covers=rdtype)
        assert rds is not None, "no %s %s" % (name, dns.rdatatype.to_text(rdtype))
        if sigs is None:
            sigs = dns.rdataset.Rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, rdtype)
        return (name, rds), sigs

    def denial(self, z):
        """The NSEC3 (or NSEC) that covers a name that does not exist, with its owner."""
        missing = dns.name.from_text("nonexistent", ORIGIN)
        param = z.get_rdataset(ORIGIN, dns.rdatatype.NSEC3PARAM)
        if param is not None:
            p = param[0]
            h = dns.dnssec.nsec3_hash(missing, p.salt, p.iterations, p.algorithm).lower()
            for name, node in z.nodes.items():
                rds = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NSEC3)
                if rds is None:
                    continue
                own = name.labels[0].decode().lower()
                nxt = rds[0].to_text().split()[4].lower()
                if own < h < nxt or (nxt <= own and (h > own or h < nxt)):
                    return {"NSEC3 %s" % own: self.rrset(z, name, dns.rdatatype.NSEC3)}
            raise AssertionError("%s: no NSEC3 covers %s" % (self.name, missing))
        for name, node in z.nodes.items():
            rds = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NSEC)
            if rds is None:
                continue
            nxt = rds[0].next
            if name < missing < nxt or (nxt <= name and (missing > name or missing < nxt)):
                return {"NSEC %s" % name: self.rrset(z, name, dns.rdatatype.NSEC)}
        raise AssertionError("%s: no NSEC covers %s" % (self.name, missing))

    def __repr__(self):
        return self.name


def parent_sets(timeline):
    """[(time, [DS rdata])] from the timeline's parent entries."""
    out = []
    for entry in timeline["parent"]:
        ds = []
        for line in entry["ds"]:
            f = line.split()
            assert f[0] == ZONE and f[2:4] == ["IN", "DS"], line
            ds.append(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DS,
                                          " ".join(f[4:])))
        out.append((entry["time"], ds))
    return out


def event_instants(timeline, parent=None):
    """Every key event and parent change (of `parent`, [(time, DS set)], if given), and
    DELTA before and after each."""
    changes = [t for t, _ in parent] if parent else [p["time"] for p in timeline["parent"]]
    times = {e["time"] for e in timeline["events"]} | set(changes)
    return sorted({t + d for t in times for d in (-DELTA, 0, DELTA)})


# ---------------------------------------------------------------------------- the checker

def in_window(times, lo, hi):
    """Indices of the entries (sorted by time) that were current at some instant of (lo, hi]:
    the one current at lo, and every one from lo (exclusive) to hi."""
    first = bisect.bisect_right(times, lo)  # times[first:] > lo
    last = bisect.bisect_right(times, hi)   # times[:last] <= hi
    idx = list(range(first, last))
    if first > 0:
        idx.insert(0, first - 1)
    return idx


def _verifies(rrset, sig, keyset, u):
    try:
        dns.dnssec.validate_rrsig(rrset, sig, {ORIGIN: keyset}, now=u)
        return True
    except dns.dnssec.ValidationFailure:
        return False


def _signed_algorithms(rrset, sigs, keyset, u):
    """The algorithms of the RRSIGs over `rrset` that verify with a key of `keyset` at u."""
    return {sig.algorithm for sig in sigs if _verifies(rrset, sig, keyset, u)}


def check_cache_states(versions, parent, policy, instants, strict=False):
    """The cache-state check of invariant 11.

    versions: [Version] in publication order; parent: [(time, [DS])] in order; policy: the
    timeline's delays (seconds). At each instant u, a resolver may hold: a DNSKEY RRset from
    any version current in (u - (dnskey_ttl + propagation_delay), u]; a DS set from any
    parent entry current in (u - (parent_ds_ttl + parent_propagation_delay), u]; data
    RRsets from any version current in (u - (max_zone_ttl + propagation_delay), u]. For
    each combination the chain must validate at u: a DS matches a SEP DNSKEY of the DNSKEY
    RRset that signs it, and each data RRset has an RRSIG that verifies with the DNSKEY
    RRset. An empty DS set is an insecure delegation: skipped.

    strict: also RFC 4035 §2.2 as a strict validator reads it: every algorithm of the DS
    set has a DS-matched key signing the DNSKEY RRset, and every algorithm of the DNSKEY
    RRset has a verifying RRSIG over the DNSKEY RRset and over each data RRset.

    Returns (chains checked, combinations skipped as insecure, [failures])."""
    w_key = policy["dnskey_ttl"] + policy["propagation_delay"]
    w_ds = policy["parent_ds_ttl"] + policy["parent_propagation_delay"]
    w_data = policy["max_zone_ttl"] + policy["propagation_delay"]
    vtimes = [v.time for v in versions]
    ptimes = [t for t, _ in parent]
    assert vtimes == sorted(vtimes) and ptimes == sorted(ptimes)
    checked = insecure = 0
    failures = []
    for u in instants:
        if not vtimes or u < vtimes[0]:
            continue
        keys = in_window(vtimes, u - w_key, u)
        dss = in_window(ptimes, u - w_ds, u)
        datas = in_window(vtimes, u - w_data, u)
        data_ok = {}
        for k in keys:
            kv = versions[k]
            for d in dss:
                ds = parent[d][1]
                n = len(datas) * len(versions[datas[0]].data)
                if not ds:
                    insecure += n
                    continue
                checked += n
                why = _dnskey_chain(kv, ds, u, strict)
                if why:
                    failures.append(dict(time=u, dnskey=kv.name, ds=_tags(ds), why=why))
                    continue
                for z in datas:
                    for label, (rrset, sigs) in versions[z].data.items():
                        key = (k, z, label)
                        if key not in data_ok:
                            algs = _signed_algorithms(rrset, sigs, kv.dnskey[0][1], u)
                            need_algs = kv.algorithms if strict else set()
                            data_ok[key] = (
                                "no RRSIG over %s verifies with the DNSKEY RRset" % label
                                if not algs else
                                "%s is not signed with algorithm(s) %s of the DNSKEY RRset"
                                % (label, sorted(int(a) for a in need_algs - algs))
                                if need_algs - algs else None)
                        if data_ok[key]:
                            failures.append(dict(time=u, dnskey=kv.name, ds=_tags(ds),
                                                 data=versions[z].name, why=data_ok[key]))
    return checked, insecure, failures


def _tags(ds):
    return ["%d/%d" % (d.key_tag, d.algorithm) for d in ds]


def _dnskey_chain(kv, ds, u, strict):
    """None if the DS set leads to a SEP key in kv's DNSKEY RRset that signs it at u."""
    rrset, sigs = kv.dnskey
    good = set()
    for key in rrset[1]:
        if not key.flags & 1:  # SEP
            continue
        for d in ds:
            if d.algorithm != key.algorithm:
                continue
            if dns.dnssec.make_ds(ORIGIN, key, d.digest_type) != d:
                continue
            one = dns.rdataset.from_rdata(rrset[1].ttl, key)
            if any(_verifies(rrset, sig, one, u) for sig in sigs):
                good.add(key.algorithm)
    if not good:
        return "no DS matches a SEP DNSKEY that signs the DNSKEY RRset"
    if strict and {d.algorithm for d in ds} - good:
        return "DS algorithm(s) %s have no key signing the DNSKEY RRset" % sorted(
            int(a) for a in {d.algorithm for d in ds} - good)
    if strict and kv.algorithms - _signed_algorithms(rrset, sigs, rrset[1], u):
        return "the DNSKEY RRset is not signed with algorithm(s) %s of its keys" % sorted(
            int(a) for a in kv.algorithms - _signed_algorithms(rrset, sigs, rrset[1], u))
    return None


def describe(failures, n=8):
    return "\n".join("  at %d: DNSKEY from %s, DS %s%s: %s"
                     % (f["time"], f["dnskey"], f["ds"],
                        ", data from %s" % f["data"] if "data" in f else "", f["why"])
                     for f in failures[:n]) + ("\n  ... %d in all" % len(failures)
                                               if len(failures) > n else "")


# ---------------------------------------------------------------------------- the validators

def stamp(t):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(t))


def ldns_at(path, t):
    return run(["ldns-verify-zone", "-t", stamp(t), path])


def valid_now(v, now):
    return all(sig.inception <= now < sig.expiration for sig in v.rrsigs)


def check_validators(timeline, versions, csk):
    """Every version passes ldns-verify-zone at its publication time and at the last second
    before the next version replaces it (there are a few hundred; each takes milliseconds).
    dnssec-verify cannot be given a time: it checks the versions whose signatures are all
    valid now, which the start of the simulation puts around rollover steps."""
    need("ldns-verify-zone")
    ends = [v.time for v in versions[1:]] + [timeline["end"]]
    for v, end in zip(versions, ends):
        for t in sorted({v.time, max(v.time, end - 1)}):
            p = ldns_at(v.path, t)
            assert p.returncode == 0, "ldns-verify-zone -t %s rejects %s:\n%s%s" % (
                stamp(t), v.name, p.stdout, p.stderr)
    now = time.time()
    current = [v for v in versions if valid_now(v, now)]
    assert len(current) >= 3, "only %s have signatures valid now" % current
    for v in current:
        p = bind_verify(v.path, ZONE, csk=csk)
        assert p.returncode == 0, "dnssec-verify rejects %s:\n%s%s" % (v.name, p.stdout,
                                                                       p.stderr)
    return current


def key_event_versions(timeline, versions):
    ev = {e["time"] for e in timeline["events"]}
    return [v for v in versions if v.time in ev]


# ---------------------------------------------------------------------------- the tests

def events_of(timeline, event):
    return [e for e in timeline["events"] if e["event"].startswith(event)]


@pytest.mark.parametrize("case", ["alg", "csk"])
def test_every_cache_state_validates(sim, case):
    t0 = time.monotonic()
    timeline, versions = sim(case)
    ev = timeline["events"]
    generated = events_of(timeline, "generated")
    roles = {e["role"] for e in ev}
    # rollovers happened: keys generated beyond the first ones, old keys removed
    if case == "alg":
        assert roles == {"KSK", "ZSK"}
        ksks = {e["tag"] for e in generated if e["role"] == "KSK"}
        assert len(ksks) >= 3, ksks  # the first, the algorithm rollover's, one a year on
        assert len(generated) >= 10
        algs = {tuple(sorted(v.algorithms)) for v in versions}
        assert {(13,), (13, 15), (15,)} <= algs, algs
        # the parent: no DS, the ECDSA KSK's, the Ed25519 KSK's, its successor's a year on
        ds_algs = [sorted({int(d.algorithm) for d in ds}) for _, ds in parent_sets(timeline)]
        assert ds_algs[:3] == [[], [13], [15]] and ds_algs[3:] and \
            all(a == [15] for a in ds_algs[3:]), ds_algs
    else:
        assert roles == {"CSK"}
        assert len(generated) >= 4
    removed = events_of(timeline, "DNSKEY removed")
    assert len(removed) >= (8 if case == "alg" else 3), removed
    assert len(timeline["parent"]) >= 4  # empty, the first DS, and DS swaps
    assert [v.time for v in versions] == sorted(v.time for v in versions)
    assert versions[0].time == timeline["start"]

    current = check_validators(timeline, versions, csk=(case == "csk"))
    after_events = key_event_versions(timeline, versions)
    assert set(after_events) & set(current), "dnssec-verify checks no rollover step"

    instants = event_instants(timeline)
    checked, insecure, failures = check_cache_states(versions, parent_sets(timeline),
                                                     timeline["policy"], instants)
    print("%s: %d versions (%d at key events), %d instants, %d chains validated, "
          "%d insecure skipped, dnssec-verify on %d versions; %.1f s"
          % (case, len(versions), len(after_events), len(instants), checked, insecure,
             len(current), time.monotonic() - t0))
    assert not failures, "chains that do not validate:\n" + describe(failures)
    assert checked >= 800, checked  # about 1100 (CSK) to 1500 (algorithm rollover)
    assert insecure > 0  # before the first DS reaches the parent


def test_algorithm_rollover_in_strict_mode(sim):
    """RFC 4035 §2.2 read strictly, as invariant 11 asks: each algorithm of the DS set signs
    the DNSKEY RRset, each algorithm of the (cached) DNSKEY RRset signs every data RRset.
    RFC 6781 §4.1.4 removes the old algorithm's RRSIGs only Dprp + TTLkey after its
    DNSKEYs, so that a cached DNSKEY RRset with both algorithms never meets data signed
    with the new one alone."""
    timeline, versions = sim("alg")
    checked, _, failures = check_cache_states(versions, parent_sets(timeline),
                                              timeline["policy"], event_instants(timeline),
                                              strict=True)
    assert checked
    assert not failures, "chains that a strict validator rejects:\n" + describe(failures)


@pytest.mark.parametrize("case", ["alg", "csk"])
def test_zonekeeper_verify_raises_no_false_alarm(sim, case):
    """`zonekeeper verify` at each version's own time, as a monitor would run it: an
    algorithm rollover's signatures ahead of (and after) their DNSKEYs are passed over, as
    validators do, so no version is reported (it was, for about 8 days of every algorithm
    rollover: "no such DNSKEY")."""
    timeline, versions = sim(case)
    passed_over = 0
    for v in versions:
        p = zk("verify", "--origin", ZONE, "--time", str(v.time), "--json", v.path)
        assert p.returncode == 0, "%s at %d: %s%s" % (v.name, v.time, p.stdout, p.stderr)
        passed_over += json.loads(p.stdout).get("ignored", 0)
    if case == "alg":
        assert passed_over > 0  # the rollover's versions were among them


# ---------------------------------------------------------------------------- negative controls
# The same versions, with a tampered timeline around them: the checker must fail. The
# versions themselves stay as they were signed (moving one in time would make its
# signatures not yet valid, a failure for the wrong reason).

def dnskey_tags(v):
    return {dns.dnssec.key_id(k) for k in v.dnskey[0][1]}


def test_checker_sees_a_ksk_removed_before_the_new_ds(sim):
    """The parent serves the new DS of the last KSK rollover two days late: the version
    without the old KSK then meets caches that hold only the old DS (.nz 2023)."""
    timeline, versions = sim("alg")
    parent = parent_sets(timeline)
    swap_t, new_ds = parent[-1]
    old_ds = parent[-2][1]
    assert old_ds and new_ds and _tags(old_ds) != _tags(new_ds)
    old_tag = old_ds[0].key_tag
    removal = next(v for v in versions if v.time > swap_t and old_tag not in dnskey_tags(v))
    checked, _, failures = check_cache_states(versions, parent, timeline["policy"],
                                              event_instants(timeline))
    assert checked and not failures, describe(failures)
    late = parent[:-1] + [(swap_t + 2 * DAY, new_ds)]
    _, _, failures = check_cache_states(versions, late, timeline["policy"],
                                        event_instants(timeline, late))
    print("negative control (KSK removed early):\n" + describe(failures, 3))
    assert failures
    assert any(f["dnskey"] == removal.name for f in failures), describe(failures)
    for f in failures:
        assert "no DS matches" in f["why"] and f["ds"] == _tags(old_ds), describe([f])
        assert removal.time <= f["time"] <= swap_t + 2 * DAY + DELTA, describe([f])


def test_checker_sees_a_zsk_used_before_its_dnskey_is_cached(sim):
    """The versions that pre-publish the last ZSK rollover's new DNSKEY are dropped: the
    new ZSK's signatures come out with its DNSKEY, and caches still hold the DNSKEY RRset
    without it."""
    timeline, versions = sim("alg")
    parent = parent_sets(timeline)
    act = [e for e in events_of(timeline, "active") if e["role"] == "ZSK"][-1]
    new_tag, act_t = act["tag"], act["time"]
    pub = next(v for v in versions if new_tag in dnskey_tags(v))
    assert act_t - pub.time >= timeline["policy"]["dnskey_ttl"]  # pre-published
    dropped = [v for v in versions if pub.time <= v.time < act_t]
    assert dropped
    bad = [v for v in versions if v not in dropped]
    _, _, failures = check_cache_states(bad, parent, timeline["policy"],
                                        event_instants(timeline))
    print("negative control (ZSK not pre-published):\n" + describe(failures, 3))
    assert failures
    before = [v for v in bad if v.time < pub.time][-1]
    for f in failures:
        assert "no RRSIG over" in f["why"] and f["dnskey"] == before.name, describe([f])
        assert act_t <= f["time"] <= act_t + timeline["policy"]["dnskey_ttl"] + \
            timeline["policy"]["propagation_delay"], describe([f])


def test_checker_strict_mode_sees_a_missing_algorithm(sim):
    """Strict mode fails where one algorithm's signatures are gone from the data while the
    DNSKEY RRset still has both (a version from the middle of the algorithm rollover whose
    data lost its ECDSA signatures); the lenient check accepts it."""
    timeline, versions = sim("alg")
    parent = parent_sets(timeline)
    both = [v for v in versions if v.algorithms == {13, 15}]
    assert both
    v = both[len(both) // 2]
    ed_only = Version.__new__(Version)
    ed_only.__dict__.update(v.__dict__)
    ed_only.data = {}
    for label, (rrset, sigs) in v.data.items():
        keep = dns.rdataset.Rdataset(sigs.rdclass, sigs.rdtype, sigs.covers)
        keep.update_ttl(sigs.ttl)
        for s in sigs:
            if s.algorithm == 15:
                keep.add(s)
        ed_only.data[label] = (rrset, keep)
    # the DS set the parent served then
    ds = [d for t, d in parent if t <= v.time][-1]
    args = ([ed_only], [(v.time, ds)], timeline["policy"], [v.time + DELTA])
    checked, _, lax = check_cache_states(*args)
    assert checked and not lax, describe(lax)
    _, _, strict = check_cache_states(*args, strict=True)
    assert strict and all("not signed with algorithm(s) [13]" in f["why"]
                          for f in strict), describe(strict)
