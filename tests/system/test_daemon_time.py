# SPDX-License-Identifier: MIT
"""60 simulated days with no edits, on a fake clock: signatures never fall below the
refresh window, and re-signing is spread (no publication after the first re-signs the
whole zone). Every published version is archived by the reload command."""
import re
from datetime import datetime, timezone

import pytest

from zktest.daemon import Daemon, wait_for
from zktest.tools import Setup, zk
from zktest.zones import SIMPLE

A = "example.com."
DAY = 86400
T0 = 1795737600          # 2026-11-27T00:00:00Z
SPEED = 2 * DAY          # simulated seconds per real second: 60 days in 30 s


def published_at(text):
    m = re.search(r"signed by zonekeeper at (\S+)Z", text)
    return int(datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
               .replace(tzinfo=timezone.utc).timestamp())


def rrsigs(text):
    return {l for l in text.splitlines() if "\tRRSIG\t" in l}


def expirations(text):
    return [int(datetime.strptime(l.split("\t")[4].split()[4], "%Y%m%d%H%M%S")
                .replace(tzinfo=timezone.utc).timestamp()) for l in rrsigs(text)]


@pytest.mark.slow
def test_sixty_days_without_edits(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    script = tmp_path / "archive.sh"
    script.write_text('#!/bin/sh\nn=$(ls "%s" | wc -l)\ncp "$1" "%s/$(printf %%05d "$n").zone"\n'
                      % (archive, archive))
    script.chmod(0o755)
    # jitter 3d: at 2 simulated days per second, one job's real latency is hours of zone
    # time, so the default 12h spread would be compressed into a couple of publications
    s = Setup(tmp_path, [A], {"rrsig_jitter": '"3d"'},
              extra='publish = { reload_command = "%s %%f"; };' % script)
    s.write_zone(A, SIMPLE.format(origin=A) +
                 "".join("h%d IN A 10.0.%d.%d\n" % (i, i // 256, i % 256) for i in range(200)))
    d = Daemon(s, env={"ZONEKEEPER_FAKE_TIME": "%d@%d" % (T0, SPEED)})
    try:
        d.wait_ready()
        wait_for(lambda: d.zone(A)["last_published"] and
                 published_at(s.output_file(A).read_text()) > T0 + 60 * DAY,
                 timeout=90, what="60 simulated days", interval=0.5)
    finally:
        d.close()
    versions = [p.read_text() for p in sorted(archive.glob("*.zone"))]
    # one batch per refresh period (validity 14d - refresh 7d - the zone's place in the 3d
    # jitter), not one publication for every hour the expirations are spread over
    assert 8 <= len(versions) <= 20, "%d publications in 60 days" % len(versions)
    total = len(rrsigs(versions[0]))
    times = [published_at(v) for v in versions]
    assert times == sorted(times)
    refreshes = []
    for i, v in enumerate(versions):
        # every version is valid when published, with at least the refresh window left
        p = zk("verify", "--origin", A, "--time", str(times[i]), "--min-validity", "7d",
               "--sample", _write(tmp_path, v))
        assert p.returncode == 0, "version %d at %d: %s" % (i, times[i], p.stderr)
        if i:
            if len(rrsigs(v) - rrsigs(versions[i - 1])) > total // 2:
                refreshes.append(times[i])
            # until the next publication nothing in the previous one came near expiry
            assert min(expirations(versions[i - 1])) - times[i] > 6 * DAY
    # each refresh re-signs the whole zone, and the next one is most of a period away
    assert len(refreshes) >= 8, refreshes
    gaps = [b - a for a, b in zip(refreshes, refreshes[1:])]
    assert min(gaps) >= 4 * DAY, gaps


def _write(tmp_path, text):
    p = tmp_path / "version.zone"
    p.write_text(text)
    return p
