# SPDX-License-Identifier: MIT
"""Acknowledged means publishable, and nothing acknowledged is lost (doc/invariants.md):
one set of rules at every door (API, import, input file), limits refused with a clear
400 where a write comes in, serials that never go back after a state file is restored,
a damaged journal line that costs only its own write, a symlinked input that stays one."""
import json
import socket
import threading
import time

import pytest

from zktest.daemon import Daemon, wait_for
from zktest.tools import Setup, bind_verify, ldns_verify, run, zk
from zktest.zones import SIMPLE

A = "example.com."
DS_HEX = "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766"
ZONE = SIMPLE.format(origin=A) + "sub IN NS ns.elsewhere.example.\n" \
    "secure IN NS ns.elsewhere.example.\nsecure IN DS 12345 13 2 %s\n" % DS_HEX


class Z:
    def __init__(self, tmp_path, policy=None, zone=ZONE, env=None):
        self.s = Setup(tmp_path, [A], policy or {})
        self.s.write_zone(A, zone)
        self.env = env
        self.d = None
        self.start()

    def start(self):
        self.d = Daemon(self.s, env=self.env)
        self.d.wait_ready()
        wait_for(lambda: self.d.zone(A)["serial"], what="the zone published")

    def post(self, name, rtype, content, ttl=None, wait=True):
        body = {"name": name, "type": rtype, "content": content}
        if ttl is not None:
            body["ttl"] = ttl
        return self.d.api("/v1/zones/%s/records%s" % (A, "?wait=published" if wait else ""),
                          "POST", json.dumps(body))

    def records(self, name=None, rtype=None):
        q = "&".join(x for x in ("name=%s" % name if name else "",
                                 "type=%s" % rtype if rtype else "") if x)
        code, j = self.d.api("/v1/zones/%s/records%s" % (A, "?" + q if q else ""))
        assert code == 200, j
        return j["records"]

    def output(self):
        return self.s.output_file(A).read_text()

    def close(self):
        if self.d:
            self.d.close()


@pytest.fixture
def z(tmp_path):
    z = Z(tmp_path)
    yield z
    z.close()


def rrset_ttl(text, owner, rtype):
    ttls = {l.split("\t")[1] for l in text.splitlines()
            if l.startswith(owner + "\t") and l.split("\t")[3] == rtype}
    assert len(ttls) == 1, ttls
    return int(ttls.pop())


# ---------------------------------------------------------------- one set of rules

def test_ds_rules_at_every_door(z):
    # the API: a DS at the apex, a DS without NS
    code, j = z.post("@", "DS", "12345 13 2 " + DS_HEX)
    assert code == 400 and j["error"]["code"] == "INVALID_RECORD", j
    code, j = z.post("nodeleg", "DS", "12345 13 2 " + DS_HEX)
    assert code == 400 and "no NS records" in j["error"]["message"], j
    # the API: the last NS of a secure delegation cannot go while its DS stays
    ns = [r for r in z.records("secure.example.com.", "NS")]
    assert len(ns) == 1
    code, j = z.d.api("/v1/zones/%s/records/%s" % (A, ns[0]["id"]), "DELETE")
    assert code == 400 and "delete the DS records before its last NS" in \
        j["error"]["message"], j
    # an import: refused with the line of the DS
    code, j = z.d.api("/v1/zones/%s/import" % A, "POST",
                      "$ORIGIN example.com.\n$TTL 300\nwww A 192.0.2.1\n@ DS 12345 13 2 %s\n"
                      % DS_HEX)
    assert code == 400 and j["error"]["code"] == "INVALID_RECORD", j
    assert j["error"].get("line") == 4, j
    # the input file: refused, the last good version stays out
    serial = z.d.zone(A)["serial"]
    z.s.write_zone(A, ZONE + "orphan IN DS 12345 13 2 %s\n" % DS_HEX)
    st = z.d.wait_zone(A, lambda s: s["error"] and s["input_broken"], what="the input refused")
    assert st["error"]["code"] == "INVALID_RECORD" and st["error"]["line"] == 12, st
    assert st["serial"] == serial
    out = z.s.output_file(A)
    for p in (ldns_verify(out), bind_verify(out, A)):
        assert p.returncode == 0, p.stdout + p.stderr


def test_apex_ns_limit_and_the_platform_ttl(z):
    text = z.output()
    platform_ttl = rrset_ttl(text, A, "NS")
    # a user apex NS with its own TTL: told, and the platform's RRset keeps its TTL
    code, j = z.post("@", "NS", "ns.provider0.example.", ttl=1)
    assert code == 201 and "take its TTL" in j["note"], j
    assert j["record"]["ttl"] == platform_ttl, j
    assert rrset_ttl(z.output(), A, "NS") == platform_ttl
    for i in range(1, 16):
        code, j = z.post("@", "NS", "ns.provider%d.example." % i, ttl=86400, wait=False)
        assert code == 201, j
    code, j = z.post("@", "NS", "ns.provider16.example.")
    assert code == 400 and j["error"]["code"] == "LIMIT_EXCEEDED", j
    assert "the limit is 16" in j["error"]["message"], j
    wait_for(lambda: z.output().count("ns.provider") == 16 * 1, what="the 16 published")
    assert rrset_ttl(z.output(), A, "NS") == platform_ttl
    # deleting them all leaves the platform's TTL too
    for r in z.records(A, "NS"):
        if "provider" in r["content"]:
            code, j = z.d.api("/v1/zones/%s/records/%s?wait=published" % (A, r["id"]),
                              "DELETE")
            assert code == 200, j
    assert rrset_ttl(z.output(), A, "NS") == platform_ttl
    assert "provider" not in z.output()


def test_rrset_size_and_rdata_limits(z):
    n = 0
    while True:
        # two strings of 255: 512 octets of RDATA, 524 in an answer
        code, j = z.post("big", "TXT", '"%06d%s" "%s"' % (n, "x" * 249, "x" * 255),
                         wait=False)
        if code != 201:
            break
        n += 1
        assert n < 200, "no limit on the RRset's size"
    assert code == 400 and j["error"]["code"] == "LIMIT_EXCEEDED", j
    assert n == 60000 // (12 + 512), n
    # RDATA over 65535 octets: refused, not cut short
    code, j = z.post("huge", "TXT", " ".join(['"%s"' % ("y" * 255)] * 257))
    assert code == 400 and j["error"]["code"] == "INVALID_RECORD", j
    # what was accepted is published and valid
    z.post("last", "A", "192.0.2.99")
    text = z.output()
    assert sum(1 for l in text.splitlines()
               if l.startswith("big.example.com.\t") and "\tTXT\t" in l) == n
    for p in (ldns_verify(z.s.output_file(A)), bind_verify(z.s.output_file(A), A)):
        assert p.returncode == 0, p.stdout + p.stderr


# ---------------------------------------------------------------- nothing lost

def test_restored_state_file_never_takes_the_serial_back(tmp_path):
    z = Z(tmp_path, policy={"serial": '"increment"'})
    try:
        state = z.s.state / "zones" / "example.com" / "state"
        backup = state.read_bytes()
        for i in range(3):
            code, j = z.post("w%d" % i, "A", "192.0.2.%d" % i)
            assert code == 201, j
        top = j["serial"]
        z.d.stop()
        z.d.close()
        state.write_bytes(backup)          # an old backup restored over the state
        z.start()
        # the published file bounds the serial: never back to what the backup says
        assert z.d.zone(A)["serial"] >= top
        code, j = z.post("after", "A", "192.0.2.50")
        assert code == 201 and j["serial"] > top, (top, j)
        assert "ahead of the zone state" in z.d.log_text()
        # a state file cut short is refused by name, not half-read
        z.d.stop()
        z.d.close()
        state.write_bytes(state.read_bytes()[:20])
        z.d = Daemon(z.s)
        z.d.wait_ready()
        st = z.d.wait_zone(A, lambda s: s["error"], what="the damaged state reported")
        assert "damaged" in st["error"]["message"] and st["serial"] is None, st
    finally:
        z.close()


def test_damaged_journal_line_costs_only_its_write(tmp_path):
    z = Z(tmp_path)
    try:
        for i in range(3):
            code, j = z.post("j%d" % i, "A", "192.0.2.%d" % (10 + i), wait=False)
            assert code == 201, j
        z.d.kill9()                         # before the write-back: all three in the journal
        z.d.close()
        journal = z.s.state / "zones" / "example.com" / "journal"
        lines = journal.read_bytes().split(b"\n")
        assert len([l for l in lines if l]) == 3
        lines[1] = lines[1][:-1] + (b"0" if lines[1][-1:] != b"0" else b"1")
        journal.write_bytes(b"\n".join(lines))
        z.start()
        wait_for(lambda: "j2.example.com.\t" in z.output(), what="the third write published")
        st = z.d.zone(A)
        assert st["journal_damaged"] == 1, st
        text = z.output()
        assert "j0.example.com.\t" in text and "j1.example.com.\t" not in text
        assert (journal.parent / "journal.damaged").exists()
        assert "line 2 is damaged" in z.d.log_text()
        p = run(["curl", "-sS", "--unix-socket", str(z.s.api_socket),
                 "http://zonekeeper/metrics"])
        assert 'zonekeeper_zone_journal_damaged_lines{zone="example.com."} 1' in p.stdout
    finally:
        z.close()


def test_symlinked_input_stays_a_symlink(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "example.com.zone"
    target.write_text(ZONE)
    s = Setup(tmp_path / "zk", [A])
    s.input_file(A).symlink_to(target)
    d = Daemon(s)
    try:
        d.wait_ready()
        wait_for(lambda: d.zone(A)["serial"], what="the zone published")
        code, j = d.api("/v1/zones/%s/records?wait=published" % A, "POST",
                        '{"name":"api","type":"A","content":"192.0.2.7"}')
        assert code == 201, j
        # written back through the link (once the zone is quiet, 5 s)
        wait_for(lambda: "api" in target.read_text(), timeout=30, what="the write-back")
        assert s.input_file(A).is_symlink()
        # and an edit of the file it points to is still seen
        target.write_text(target.read_text() + "edited IN A 192.0.2.8\n")
        wait_for(lambda: "edited.example.com.\t" in s.output_file(A).read_text(),
                 what="the edit of the target published")
    finally:
        d.close()


# ---------------------------------------------------------------- the loop keeps answering

def unix_get(path, target, timeout=30):
    """One GET over the Unix socket, read to the end; returns (seconds, status line)."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(path))
    s.sendall(b"GET " + target.encode() + b" HTTP/1.1\r\nHost: z\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    s.close()
    return time.monotonic() - t0, data.split(b"\r\n", 1)[0].decode()


@pytest.mark.slow
def test_a_large_listing_does_not_stall_the_api(tmp_path):
    """Sorting and formatting 100k records (a listing) goes to a worker: meanwhile the loop
    answers other requests at once (before, a listing of 200k records held it 3 s)."""
    names = 100000
    z = Z(tmp_path, zone=SIMPLE.format(origin=A) + "".join(
        "h%06d IN A 10.%d.%d.%d\n" % (i, i >> 16, (i >> 8) & 255, i & 255)
        for i in range(names)))
    try:
        sock = z.s.api_socket
        result = {}
        t = threading.Thread(target=lambda: result.update(
            big=unix_get(sock, "/v1/zones/%s/records" % A)))
        t0 = time.monotonic()
        t.start()
        worst = 0.0
        while t.is_alive():
            took, status = unix_get(sock, "/v1/health")
            assert "200" in status, status
            worst = max(worst, took)
        t.join()
        total = time.monotonic() - t0
        assert "200" in result["big"][1], result
        # the loop's share is copying the records, not sorting or formatting them
        assert worst < total / 3, (worst, total)
    finally:
        z.close()


def test_status_says_how_a_failing_zone_is_kept(z):
    """`zonekeeper status`: a broken input keeps the last good version; other faults are
    retried, and the retry is shown."""
    z.s.write_zone(A, ZONE + "bad line\n")
    z.d.wait_zone(A, lambda s: s["input_broken"], what="the broken input")
    p = zk("status", "--config", z.s.config)
    assert "ZONE_PARSE_ERROR" in p.stdout and "the last good version stays published" in \
        p.stdout, p.stdout
    z.s.write_zone(A, ZONE)
    z.d.wait_zone(A, lambda s: not s["input_broken"] and not s["error"], what="recovery")
    victim = sorted(p for p in z.s.key_dir(A).iterdir() if p.name.endswith(".private"))[0]
    victim.unlink()
    z.s.write_zone(A, ZONE + "new IN A 192.0.2.33\n")   # a run that needs the keys
    st = z.d.wait_zone(A, lambda s: s["failures"] > 0, what="the key fault")
    assert st["retry_at"] and st["error"]["code"] == "KEY_ERROR", st
    p = zk("status", "--config", z.s.config)
    assert "failed in a row; retry at " + st["retry_at"] in p.stdout, p.stdout


def test_downstream_limits_from_the_policy(tmp_path):
    """max_records_per_type / max_types_per_name (BIND 9.18 refuses a zone over its own
    limits, 100 each): refused where writes come in, the input file included."""
    zone = ZONE + "".join("many IN A 10.0.0.%d\n" % i for i in range(100))
    z = Z(tmp_path, policy={"max_records_per_type": "100", "max_types_per_name": "10"},
          zone=zone)
    try:
        code, j = z.post("many", "A", "10.0.1.1")
        assert code == 400 and j["error"]["code"] == "LIMIT_EXCEEDED", j
        assert "max_records_per_type" in j["error"]["message"], j
        z.s.write_zone(A, zone + "many IN A 10.0.1.2\n")
        st = z.d.wait_zone(A, lambda s: s["input_broken"], what="the input refused")
        assert st["error"]["code"] == "LIMIT_EXCEEDED" and st["error"]["line"], st
    finally:
        z.close()
