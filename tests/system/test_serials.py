# SPDX-License-Identifier: MIT
"""Serials strictly increase across runs, whatever the clock does (invariants 1-4, 29),
under every scheme, and survive in the state directory."""
import re

import pytest

from zktest.tools import Setup
from zktest.zones import SIMPLE

ZONE = "example.com."
DAY = 86400
T0 = 1795737600  # 2026-11-27T00:00:00Z


def soa_serial(s):
    for l in s.output_file(ZONE).read_text().splitlines():
        f = l.split("\t")
        if len(f) == 5 and f[3] == "SOA":
            return int(f[4].split()[2])
    raise AssertionError("no SOA")


def sign_at(s, t, edit=None):
    if edit is not None:
        s.write_zone(ZONE, SIMPLE.format(origin=ZONE) + edit)
    return s.sign(env={"ZONEKEEPER_FAKE_TIME": "%d@0" % t}, check=False)


def gt(a, b):  # RFC 1982
    return a != b and (a - b) % 2**32 < 2**31


@pytest.fixture
def zone(tmp_path):
    def make(scheme):
        s = Setup(tmp_path / scheme, [ZONE], {"serial": '"%s"' % scheme})
        s.write_zone(ZONE, SIMPLE.format(origin=ZONE).replace(" 1 7200 ", " 7 7200 "))
        return s
    return make


def test_dateserial_150_edits_in_a_day_and_the_clock_stepping_back(zone):
    s = zone("dateserial")
    # keys made the day before: the DNSKEY timing (publish = now) is honest, so a clock
    # stepped back before a key's creation rightly finds no active key
    p = sign_at(s, T0 - DAY)
    assert p.returncode == 0, p.stderr
    serials = []
    t = T0 + 3600
    for i in range(150):
        p = sign_at(s, t + i, edit="e IN TXT \"%d\"\n" % i)
        assert p.returncode == 0, p.stderr
        serials.append(soa_serial(s))
    assert serials[0] == 2026112700
    assert serials[99] == 2026112799
    assert serials[100] == 2026112800  # borrowed from tomorrow, as BIND does
    assert all(gt(b, a) for a, b in zip(serials, serials[1:]))
    # the clock steps back three days: refused (invariant 29), serial and file untouched
    before = s.output_file(ZONE).read_bytes()
    p = sign_at(s, t - 3 * DAY, edit="e IN TXT \"back\"\n")
    assert p.returncode == 1 and "[CLOCK_INSANE]" in p.stderr, p.stderr
    assert s.output_file(ZONE).read_bytes() == before
    # within the tolerance the serial still only grows
    p = sign_at(s, t + 150 - 1800, edit="e IN TXT \"skew\"\n")
    assert p.returncode == 0, p.stderr
    assert gt(soa_serial(s), serials[-1])
    # steps back of under an hour each cannot walk the guard back: its reference is the
    # latest signing ever made, not the last one
    p = sign_at(s, t + 150 - 3000, edit="e IN TXT \"skew2\"\n")
    assert p.returncode == 0, p.stderr
    p = sign_at(s, t + 150 - 4000, edit="e IN TXT \"skew3\"\n")
    assert p.returncode == 1 and "[CLOCK_INSANE]" in p.stderr, p.stderr
    # a later day re-syncs to the calendar
    p = sign_at(s, T0 + 5 * DAY, edit="e IN TXT \"later\"\n")
    assert p.returncode == 0 and soa_serial(s) == 2026120200


def test_unixtime_increment_and_keep(zone):
    s = zone("unixtime")
    sign_at(s, T0)
    assert soa_serial(s) == T0
    sign_at(s, T0, edit="x IN A 192.0.2.9\n")  # same second: last+1
    assert soa_serial(s) == T0 + 1

    s = zone("increment")
    p = sign_at(s, T0)
    assert p.returncode == 0 and soa_serial(s) == 8  # above the input's serial 7
    sign_at(s, T0 + 60, edit="x IN A 192.0.2.9\n")
    assert soa_serial(s) == 9

    s = zone("keep")
    sign_at(s, T0)
    assert soa_serial(s) == 7
    text = SIMPLE.format(origin=ZONE).replace(" 1 7200 ", " 7 7200 ") + "x IN A 192.0.2.9\n"
    s.write_zone(ZONE, text)
    p = s.sign(check=False)
    assert p.returncode == 1 and "[SERIAL_NOT_GREATER]" in p.stderr, p.stderr
    assert soa_serial(s) == 7
    s.write_zone(ZONE, text.replace(" 7 7200 ", " 8 7200 "))
    s.sign()
    assert soa_serial(s) == 8


def test_unchanged_zone_keeps_its_serial_and_file(zone):
    s = zone("dateserial")
    sign_at(s, T0)
    before = s.output_file(ZONE).read_bytes()
    p = sign_at(s, T0 + 60)
    assert "unchanged" in p.stdout
    assert s.output_file(ZONE).read_bytes() == before


def test_due_signatures_are_refreshed_with_a_new_serial(zone):
    """With no edit, signatures are refreshed once under 7 days remain (invariant 8)."""
    s = zone("dateserial")
    sign_at(s, T0)
    assert "\tCDS\t" not in s.output_file(ZONE).read_text()
    # the DNSKEYs are in every cache after Dprp + TTLkey + safety (2h05m), but the first
    # DS is asked for (CDS/CDNSKEY, invariant 15) only once the zone's signatures are in
    # every cache too (Dprp + max_zone_ttl): a validator holding the DS must never meet
    # unsigned answers cached from before
    p = sign_at(s, T0 + 2 * 3600 + 600)
    assert "\tCDS\t" not in s.output_file(ZONE).read_text()
    p = sign_at(s, T0 + DAY + 600)
    assert "published" in p.stdout
    text = s.output_file(ZONE).read_text()
    cds = [l.split("\t")[4] for l in text.splitlines() if "\tCDS\t" in l]
    ds = [l.split("\t")[4] for l in s.ds(ZONE)]
    assert cds == ds and "\tCDNSKEY\t257 3 13 " in text
    first = soa_serial(s)
    p = sign_at(s, T0 + 6 * DAY)  # every signature still has > 7 days left
    assert "unchanged" in p.stdout
    p = sign_at(s, T0 + 8 * DAY)  # now every signature is due
    assert "published" in p.stdout, p.stdout + p.stderr
    assert gt(soa_serial(s), first)
    made = int(re.search(r"signatures: (\d+) made", p.stdout).group(1))
    assert made > 5


def test_serial_state_is_durable_and_checked(zone):
    s = zone("dateserial")
    sign_at(s, T0)
    state = s.state / "zones" / "example.com" / "state"
    assert "serial 2026112700" in state.read_text()
    assert (state.stat().st_mode & 0o777) == 0o600
    state.write_text("serial garbage\n")
    p = sign_at(s, T0 + 60, edit="y IN A 192.0.2.10\n")
    assert p.returncode == 1 and "damaged" in p.stderr, p.stderr
