# SPDX-License-Identifier: MIT
"""Bad input gets a clear error, a non-zero exit, and changes nothing: the published file
and the serial state stay exactly as they were."""
import os
import re
from pathlib import Path

import pytest

from zktest.tools import ZONEKEEPER, Setup, run, sha256, zk
from zktest.zones import SIMPLE


@pytest.fixture
def signed(tmp_path):
    s = Setup(tmp_path, ["example.com."])
    s.write_zone("example.com.", SIMPLE.format(origin="example.com."))
    s.sign()
    out = s.output_file("example.com.")
    state = s.state / "zones" / "example.com" / "state"
    s.before = (sha256(out), state.read_text())
    s.unchanged = lambda: (sha256(out), state.read_text()) == s.before
    return s


def refused(s, code, where=None):
    p = s.sign(check=False)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "[%s]" % code in p.stderr, p.stderr
    if where:
        assert re.search(where, p.stderr), p.stderr
    assert "published" not in p.stdout
    assert s.unchanged(), "a refused input changed the published zone or its state"
    return p


def test_parse_error_names_file_and_line(signed):
    text = SIMPLE.format(origin="example.com.") + "bad IN A 300.1.2.3\n"
    signed.write_zone("example.com.", text)
    line = text.count("\n")
    refused(signed, "ZONE_PARSE_ERROR", r"example\.com\.zone:%d: cannot parse A record" % line)


def test_unknown_type_and_unbalanced_parenthesis(signed):
    signed.write_zone("example.com.", SIMPLE.format(origin="example.com.") + "x IN BOGUS 1\n")
    refused(signed, "ZONE_PARSE_ERROR", r":9: unknown type 'BOGUS'")
    signed.write_zone("example.com.", SIMPLE.format(origin="example.com.") + "x IN TXT ( \"a\"\n")
    refused(signed, "ZONE_PARSE_ERROR", r":9: '\(' is never closed")


def test_cname_conflict_is_refused(signed):
    signed.write_zone("example.com.", SIMPLE.format(origin="example.com.") +
                      "www IN CNAME mail\n")
    refused(signed, "CNAME_CONFLICT", r":9: CNAME and other data at www\.example\.com\.")


def test_cname_at_apex_is_refused(signed):
    signed.write_zone("example.com.", SIMPLE.format(origin="example.com.")
                      .replace("IN MX   10 mail", "IN CNAME other.example."))
    refused(signed, "CNAME_CONFLICT", r"CNAME at the zone apex")


def test_out_of_zone_record_is_refused(signed):
    signed.write_zone("example.com.", SIMPLE.format(origin="example.com.") +
                      "www.example.org. IN A 192.0.2.9\n")
    refused(signed, "OUT_OF_ZONE", r":9: www\.example\.org\. is outside the zone example\.com\.")


def test_ttl_above_max_zone_ttl_is_refused(signed):
    signed.write_zone("example.com.", SIMPLE.format(origin="example.com.") +
                      "slow 172800 IN A 192.0.2.9\n")
    refused(signed, "ZONE_INVALID", r":9: TTL 172800 .* above the policy's max_zone_ttl 86400")


def test_missing_input_file(signed):
    signed.input_file("example.com.").unlink()
    refused(signed, "INPUT_UNREADABLE",
            r"cannot read zone file '.*example\.com\.zone': No such file or directory")


def test_broken_configuration_is_refused(signed):
    cfg = signed.config.read_text()
    signed.config.write_text(cfg.replace('denial = "nsec3";', 'denial = "nsec4";'))
    p = signed.sign(check=False)
    assert p.returncode == 2
    assert re.search(r"zonekeeper\.conf:\d+: .*denial", p.stderr), p.stderr
    assert signed.unchanged()
    signed.config.write_text(cfg.replace('denial = "nsec3";', 'denial = "nsec3"; colour = 1;'))
    p = signed.sign(check=False)
    assert p.returncode == 2 and "colour" in p.stderr, p.stderr
    assert signed.unchanged()


def private_files(s):
    return sorted(s.key_dir("example.com.").glob("K*.private"))


def test_unreadable_key_file_is_refused(signed):
    priv = private_files(signed)[0]
    priv.write_text("this is not a key\n")
    p = refused(signed, "KEY_ERROR")
    assert priv.name in p.stderr


def test_tampered_key_fails_its_self_test(signed):
    """A private key that does not match its DNSKEY is never used (invariants 6, 17)."""
    priv = private_files(signed)[0]
    text = priv.read_text()
    m = re.search(r"PrivateKey: (\S+)", text)
    b64 = m.group(1)
    flipped = ("B" if b64[10] != "B" else "C")
    priv.write_text(text.replace(b64, b64[:10] + flipped + b64[11:]))
    p = refused(signed, "KEY_ERROR", r"does not match")
    assert priv.name in p.stderr


def test_unknown_zone_on_the_command_line(signed):
    p = signed.sign("--zone", "nope.example.", check=False)
    assert p.returncode == 1 and "ZONE_NOT_FOUND" in p.stderr
    assert signed.unchanged()


# ---------------------------------------------------------------- zonekeeper verify

def tamper(path, fn):
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(fn(lines)))


def verify(s, *extra):
    return zk("verify", "--origin", "example.com.", *extra, s.output_file("example.com."))


def test_verify_accepts_the_published_zone(signed):
    p = verify(signed)
    assert p.returncode == 0 and "valid" in p.stdout, p.stderr


def test_verify_rejects_a_bad_signature(signed):
    def flip(lines):
        for i, l in enumerate(lines):
            if "\tRRSIG\tA " in l:
                sig = l.rstrip("\n").split(" ")[-1]
                c = "A" if sig[5] != "A" else "B"
                lines[i] = l.replace(sig, sig[:5] + c + sig[6:])
                return lines
        raise AssertionError("no RRSIG A")
    tamper(signed.output_file("example.com."), flip)
    p = verify(signed)
    assert p.returncode == 1 and "does not verify" in p.stderr, p.stderr


def test_verify_rejects_a_missing_nsec3(signed):
    def drop(lines):
        i = next(i for i, l in enumerate(lines) if "\tNSEC3\t" in l)
        return lines[:i] + lines[i + 2:]  # the NSEC3 and its RRSIG
    tamper(signed.output_file("example.com."), drop)
    p = verify(signed)
    assert p.returncode == 1 and "has no NSEC3 record" in p.stderr, p.stderr


def test_verify_rejects_a_wrong_bitmap(signed):
    def edit(lines):
        i = next(i for i, l in enumerate(lines) if "\tNSEC3\t" in l and l.rstrip().endswith("A RRSIG"))
        lines[i] = lines[i].replace("A RRSIG", "A MX RRSIG")
        return lines
    tamper(signed.output_file("example.com."), edit)
    p = verify(signed)
    assert p.returncode == 1 and "type bitmap" in p.stderr, p.stderr


def test_verify_rejects_expired_signatures(signed):
    p = verify(signed, "--time", "20400101000000")
    assert p.returncode == 1 and "expired" in p.stderr, p.stderr
    p = verify(signed, "--min-validity", "30d")
    assert p.returncode == 1 and "expires too soon" in p.stderr, p.stderr


def test_verify_usage_errors(signed):
    p = zk("verify", signed.output_file("example.com."))
    assert p.returncode == 2 and "Usage" in p.stderr
    p = zk("verify", "--origin", "example.com.", signed.root / "nope.zone")
    assert p.returncode == 1 and "nope.zone" in p.stderr


def test_keys_read_by_another_user_say_whose_they_are():
    """`zonekeeper keys --config --zone` run by an operator who is not the service's user
    (here nobody, through setpriv): refused with the path and the two ways that work."""
    import shutil
    import tempfile

    if not shutil.which("setpriv") or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to run as another user")
    top = Path(tempfile.mkdtemp(prefix="zk-keys-", dir="/tmp"))
    try:
        os.chmod(top, 0o755)
        s = Setup(top, ["example.com."])
        s.write_zone("example.com.", SIMPLE.format(origin="example.com."))
        s.sign()
        os.chmod(s.state / "zones", 0o700)  # as the service's own directories are
        for p in (s.config, top / "zonekeeper.conf"):
            if p.exists():
                os.chmod(p, 0o644)
        p = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                 str(ZONEKEEPER), "keys", "--config", str(s.config), "--zone",
                 "example.com."], timeout=30)
        assert p.returncode == 1, p.stdout + p.stderr
        assert "Permission denied" in p.stderr and str(s.state / "zones") in p.stderr, p.stderr
        assert "ask the running daemon (zonekeeper keys example.com.)" in p.stderr, p.stderr
    finally:
        shutil.rmtree(top, ignore_errors=True)
