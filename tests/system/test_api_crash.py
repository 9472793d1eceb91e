# SPDX-License-Identifier: MIT
"""An acknowledged API write survives kill -9 (nothing acknowledged is lost): each round
starts the daemon, writes one record, and SIGKILLs the daemon the moment the 201 arrives
(no wait for publication); after the last restart every acknowledged record is published,
the serial never went down and the zone validates."""
import json
import os

from zktest.api import find, raw_http, soa_serial, zone_records
from zktest.daemon import Daemon, wait_for
from zktest.tools import Setup, bind_verify, ldns_verify
from zktest.zones import SIMPLE

ZONE = "example.com."
ROUNDS = int(os.environ.get("ZK_API_CRASH_ROUNDS", "24"))


def gt_or_eq(a, b):
    return a == b or (a - b) % 2**32 < 2**31


def test_kill_9_right_after_each_201(tmp_path):
    s = Setup(tmp_path, [ZONE])
    s.write_zone(ZONE, SIMPLE.format(origin=ZONE))
    out = s.output_file(ZONE)
    acked = []
    highest = 0
    for i in range(ROUNDS):
        d = Daemon(s, debounce_ms=(0, 20, 50)[i % 3])
        try:
            d.wait_ready()
            if out.exists():
                assert ldns_verify(out).returncode == 0, "round %d: invalid zone" % i
                serial = soa_serial(out)
                assert gt_or_eq(serial, highest), "serial went down: %d < %d" % (serial, highest)
                highest = serial
            # one shape of write per round, alternating types and owners
            if i % 3 == 0:
                rec = {"name": "crash%d" % i, "type": "A", "content": "10.7.%d.%d" % (i // 256,
                                                                                       i % 256)}
            elif i % 3 == 1:
                rec = {"name": "crash%d.deep" % i, "type": "TXT", "content": '"round %d"' % i}
            else:
                rec = {"name": "crash", "type": "AAAA", "content": "2001:db8::%x" % (i + 1)}
            status, body = raw_http(s.api_socket, "POST", "/v1/zones/%s/records" % ZONE,
                                    json.dumps(rec))
            if status == 201:
                d.kill9()                       # the moment the ack is in
            assert status == 201, "round %d: %d %r" % (i, status, body)
            assert body["status"] == "ok" and body["record"]["id"], body
            acked.append((rec, body["record"]))
        finally:
            d.kill9()
            d.close()
    assert len(acked) == ROUNDS
    # the final restart: every acknowledged record is published
    d = Daemon(s)
    try:
        d.wait_ready()

        def missing():
            recs = zone_records(out)
            return [r for r, _ in acked
                    if not find(recs, r["name"] + "." + ZONE, r["type"], r["content"], ZONE)]
        wait_for(lambda: not missing(), 30, "every acknowledged record published")
        assert not missing()
        code, j = d.api("/v1/zones/%s/records" % ZONE)
        assert code == 200, j
        ids = {r["id"] for r in j["records"]}
        lost = [ack for _, ack in acked if ack["id"] not in ids]
        assert not lost, "acknowledged but not listed: %r" % lost
        assert gt_or_eq(soa_serial(out), highest)
        for p in (ldns_verify(out), bind_verify(out, ZONE)):
            assert p.returncode == 0, p.stdout + p.stderr
    finally:
        d.close()
