# SPDX-License-Identifier: MIT
"""The record API against clients that misbehave (doc/api.md, "Limits" and "Errors"):
TCP clients that open connections and send nothing or dribble their headers, paths whose
percent-encoding would change how they split, bytes that are not UTF-8 in requests and in
zone files, the line of an import error, rollovers asked for while one is in progress, and
two records whose ids collide (64 bits of SHA-256: a real pair, found with 2^32 work)."""
import json
import socket
import threading
import time

import pytest

from zktest.api import Client, assert_error, set_api, tcp_free_port
from zktest.daemon import Daemon, wait_for
from zktest.tools import Setup
from zktest.zones import SIMPLE

ZONE = "example.com."
BASE = SIMPLE.format(origin=ZONE)
TOKEN = "hardening-token-0123456789abcdef"
HEADER_DEADLINE = 5  # API_HEADER_DEADLINE in signer/daemon/api.h

# Two TXT records at col.example.com. whose ids are the same: the first 64 bits of
# SHA-256(owner | type | RDATA) of both are ba6be99023243f1f.
COLLIDING = ("f2ac718f38a1db21", "ba00908fca06b832")
COLLIDING_ID = "ba6be99023243f1f"


class Env:
    def __init__(self, root, api=None, zones=((ZONE, BASE),)):
        self.s = Setup(root, [z for z, _ in zones])
        if api:
            set_api(self.s, **api)
        for z, text in zones:
            if isinstance(text, bytes):
                self.s.input_file(z).write_bytes(text)
            else:
                self.s.write_zone(z, text)
        self.c = Client(self.s.api_socket)
        self.d = Daemon(self.s)
        self.d.wait_ready()

    def close(self):
        self.d.close()


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path)
    yield e
    e.close()


def error_of(r, http, code):
    """An error reply: the status, the code, and the error object (which may carry a line)."""
    assert r.status == http, "expected HTTP %d %s, got %r" % (http, code, r)
    assert isinstance(r.json, dict) and r.json.get("status") == "error", r
    err = r.json["error"]
    assert err["code"] == code and err["message"].strip(), r
    assert set(err) <= {"code", "message", "line"}, r
    return err


# ---------------------------------------------------------------- connection limits

def open_idle(addr, port, n, payload=b""):
    """n connections from source address `addr`, each sending `payload` and then nothing."""
    out = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        s.bind((addr, 0))
        s.connect(("127.0.0.1", port))
        if payload:
            s.sendall(payload)
        out.append(s)
    return out


def closed_by_server(s, timeout):
    """True once the server closed `s` (EOF or reset), within `timeout` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            data = s.recv(4096)
        except socket.timeout:
            return False
        except OSError:
            return True
        if not data:
            return True
    return False


@pytest.fixture
def tcp_env(tmp_path):
    port = tcp_free_port("127.0.0.1")
    e = Env(tmp_path, api={"listen": "127.0.0.1:%d" % port, "tokens": [TOKEN]})
    e.port = port
    e.tcp = Client(base="http://127.0.0.1:%d" % port, token=TOKEN)
    e.socks = []
    yield e
    for s in e.socks:
        s.close()
    e.close()


def test_idle_tcp_clients_do_not_lock_out_authorised_ones(tcp_env):
    """More idle connections than max_connections (64), from five addresses (16 each, the
    per-address limit): an authorised request still gets through at once, and the idle
    ones are closed after the header deadline."""
    e = tcp_env
    for i in range(2, 7):
        e.socks += open_idle("127.0.0.%d" % i, e.port, 16)
    time.sleep(0.5)  # let the daemon accept what it takes
    t0 = time.monotonic()
    r = e.tcp.get("/v1/zones/%s" % ZONE, timeout=4)
    took = time.monotonic() - t0
    assert r.status == 200 and r.json["zone"]["name"] == ZONE, r
    assert took < 3, "the authorised request took %.1f s" % took
    # every idle connection is gone by the deadline (plus some slack for the loop)
    deadline = time.monotonic() + HEADER_DEADLINE + 3
    still_open = [s for s in e.socks
                  if not closed_by_server(s, max(0.1, deadline - time.monotonic()))]
    assert not still_open, "%d idle connections still open" % len(still_open)


def test_dribbled_headers_are_cut_at_the_deadline(tcp_env):
    """A client that sends one byte of its headers every 0.3 s is never idle, but it has
    not shown a token by the deadline: it is closed then, not after idle_timeout (30 s)."""
    e = tcp_env
    s = open_idle("127.0.0.1", e.port, 1)[0]
    e.socks.append(s)
    req = b"GET /v1/health HTTP/1.1\r\nHost: zonekeeper\r\nX-Slow: " + b"a" * 200
    t0 = time.monotonic()
    closed_at = None
    for b in req:
        try:
            s.sendall(bytes([b]))
        except OSError:
            closed_at = time.monotonic() - t0
            break
        if closed_by_server(s, 0.3):
            closed_at = time.monotonic() - t0
            break
        if time.monotonic() - t0 > HEADER_DEADLINE + 5:
            break
    assert closed_at is not None, "the dribbling client was not cut off"
    assert HEADER_DEADLINE - 1 <= closed_at <= HEADER_DEADLINE + 3, closed_at
    # an authorised client that is just as slow, once its headers are in, is not cut off
    s2 = open_idle("127.0.0.1", e.port, 1)[0]
    e.socks.append(s2)
    s2.sendall(b"GET /v1/health HTTP/1.1\r\nHost: zonekeeper\r\n"
               b"Authorization: Bearer " + TOKEN.encode() + b"\r\n\r\n")
    s2.settimeout(5)
    assert s2.recv(4096).startswith(b"HTTP/1.1 200"), "authorised request not answered"
    assert not closed_by_server(s2, HEADER_DEADLINE + 1.5), \
        "an authorised keep-alive connection was closed at the header deadline"


def test_a_401_closes_the_connection(tcp_env):
    e = tcp_env
    s = open_idle("127.0.0.1", e.port, 1)[0]
    e.socks.append(s)
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: zonekeeper\r\n"
              b"Authorization: Bearer wrong\r\n\r\n")
    buf = b""
    end = time.monotonic() + 5
    while time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            break
        except OSError:
            chunk = b""
        if not chunk:
            break
        buf += chunk
    head = buf.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 401"), buf[:300]
    assert b"connection: close" in head, head
    assert not chunk, "the connection stayed open after the 401"


# ---------------------------------------------------------------- the raw path

def test_encoded_slash_and_nul_in_the_path_are_refused(env):
    c = env.c
    www = [x for x in c.records(ZONE, "?name=www.example.com.&type=A")]
    assert len(www) == 1
    rid = www[0]["id"]
    for path in ("/v1/zones/%s%%2frecords" % ZONE, "/v1/zones/%s%%2Frecords" % ZONE,
                 "/v1/zones%%2F%s/records" % ZONE, "/v1/zones/%s%%00/records" % ZONE,
                 "/v1/zones/%s/records%%00x" % ZONE, "/v1/health%00"):
        assert_error(c.get(path), 400, "BAD_REQUEST", "%2F")
    # a delete whose id would be cut short at the NUL (or a path split at %2F)
    for path in ("/v1/zones/%s/records/%s%%00junk" % (ZONE, rid),
                 "/v1/zones/%s%%2Frecords%%2F%s" % (ZONE, rid)):
        assert_error(c.request("DELETE", path), 400, "BAD_REQUEST")
    assert c.records(ZONE, "?name=www.example.com.&type=A") == www
    # a %2F in the query is data, not a separator (a '/' in a name is a character)
    r = c.get("/v1/zones/%s/records?name=a%%2Fb" % ZONE)
    assert r.status == 200 and r.json["records"] == [], r


# ---------------------------------------------------------------- UTF-8 and lines

def test_invalid_utf8_in_requests_gets_json_errors(env):
    c = env.c
    # a zone name, a record id from the path (percent-decoded to raw bytes)
    err = error_of(c.get("/v1/zones/ex%ffample.com."), 404, "ZONE_NOT_FOUND")
    assert "\\xff" in err["message"], err
    err = error_of(c.request("DELETE", "/v1/zones/%s/records/%%fe%%ff" % ZONE), 404,
                   "RECORD_NOT_FOUND")
    assert "\\xfe\\xff" in err["message"], err
    # a body with a name that is not UTF-8
    body = b'{"name":"w\xffw","type":"A","content":"192.0.2.7"}'
    err = error_of(c.post(ZONE, body), 400, "BAD_REQUEST")
    # a name of 300 two-octet characters: the message quotes the first 255 octets of it
    name = "\u00e9" * 300
    err = error_of(c.post(ZONE, {"name": name, "type": "A", "content": "192.0.2.7"}), 400,
                   "INVALID_RECORD")
    assert "\u00e9" * 100 in err["message"], err


def test_import_errors_give_the_line(env):
    c = env.c
    before = c.records(ZONE)
    text = (b"$ORIGIN example.com.\n$TTL 3600\n"
            b"www IN A\xff 192.0.2.1\n"
            b"mail IN A 192.0.2.25\n")
    r = c.request("POST", "/v1/zones/%s/import" % ZONE, body=text)
    err = error_of(r, 400, "ZONE_PARSE_ERROR")
    assert err.get("line") == 3, err
    assert "\\xff" in err["message"], err
    assert str(env.s.root) not in r.text
    text = b"$ORIGIN example.com.\n$TTL 3600\nwww IN A 300.1.1.1\n"
    err = error_of(c.request("POST", "/v1/zones/%s/import" % ZONE, body=text), 400,
                   "ZONE_PARSE_ERROR")
    assert err.get("line") == 3, err
    assert c.records(ZONE) == before


def test_zone_status_keeps_an_error_that_quotes_invalid_utf8(tmp_path):
    broken = "broken.example."
    e = Env(tmp_path, zones=((ZONE, BASE),
                             (broken, b"$ORIGIN broken.example.\n$TTL 3600\n"
                                      b"@ IN SOA ns1 host 1 2 3 4 5\n"
                                      b"www IN A\xff 192.0.2.1\n")))
    try:
        wait_for(lambda: e.s.output_file(ZONE).exists(), 30, "the good zone published")
        r = e.c.get("/v1/zones/%s" % broken)
        assert r.status == 200, r
        wait_for(lambda: e.c.get("/v1/zones/%s" % broken).json["zone"].get("state") == "error",
                 30, "the broken zone's error")
        z = e.c.get("/v1/zones/%s" % broken).json["zone"]
        assert isinstance(z.get("error"), dict), z
        assert z["error"]["line"] == 4 and "\\xff" in z["error"]["message"], z
        r = e.c.get("/v1/zones")
        assert r.status == 200 and len(r.json["zones"]) == 2, r
    finally:
        e.close()


# ---------------------------------------------------------------- rollovers

def rollover(c, kind):
    return c.request("POST", "/v1/zones/%s/keys/rollover" % ZONE,
                     json_body={"type": kind, "now": True}, timeout=60)


def test_a_second_rollover_of_a_role_in_progress_is_refused(env):
    c = env.c
    r = rollover(c, "zsk")
    assert r.status == 200, r
    zsks = [k for k in r.json["keys"] if k["role"] == "ZSK"]
    assert len(zsks) == 2, r
    old = [k["tag"] for k in zsks if k["goal"] == "leaving"]
    r = rollover(c, "zsk")
    msg = assert_error(r, 409, "CONFLICT", "in progress", "key %d" % old[0])
    assert "ZSK" in msg
    keys = c.get("/v1/zones/%s/keys" % ZONE).json["keys"]
    assert len([k for k in keys if k["role"] == "ZSK"]) == 2, keys
    # the other role is not held up
    r = rollover(c, "ksk")
    assert r.status == 200, r
    assert len([k for k in r.json["keys"] if k["role"] == "KSK"]) == 2, r
    assert_error(rollover(c, "ksk"), 409, "CONFLICT", "in progress")


# ---------------------------------------------------------------- colliding ids

def txt(content):
    return {"name": "col", "type": "TXT", "content": '"%s"' % content}


def test_colliding_record_ids_name_neither_record(env):
    c = env.c
    r = c.post(ZONE, txt(COLLIDING[0]))
    assert r.status == 201 and r.json["record"]["id"] == COLLIDING_ID, r
    # the second one would share the id: refused, the first one untouched
    assert_error(c.post(ZONE, txt(COLLIDING[1])), 409, "CONFLICT", "ambiguous record id")
    col = c.records(ZONE, "?name=col.example.com.")
    assert [x["content"] for x in col] == ['"%s"' % COLLIDING[0]], col
    # nor can a PUT give another record that id
    mail = c.records(ZONE, "?name=mail.example.com.&type=A")[0]
    assert_error(c.put(ZONE, mail["id"], txt(COLLIDING[1])), 409, "CONFLICT",
                 "ambiguous record id")
    # an import (or a zone file) may hold both: both kept, and the id names neither
    text = BASE + 'col IN TXT "%s"\ncol IN TXT "%s"\n' % COLLIDING
    r = c.request("POST", "/v1/zones/%s/import?wait=published" % ZONE, body=text, timeout=60)
    assert r.status == 200, r
    col = c.records(ZONE, "?name=col.example.com.")
    assert sorted(x["content"] for x in col) == sorted('"%s"' % x for x in COLLIDING), col
    assert {x["id"] for x in col} == {COLLIDING_ID}
    for resp in (c.delete(ZONE, COLLIDING_ID), c.put(ZONE, COLLIDING_ID, {"ttl": 60})):
        assert_error(resp, 409, "CONFLICT", "ambiguous record id")
    assert len(c.records(ZONE, "?name=col.example.com.")) == 2
    # an import without one of them removes exactly that one
    text = BASE + 'col IN TXT "%s"\n' % COLLIDING[1]
    r = c.request("POST", "/v1/zones/%s/import?wait=published" % ZONE, body=text, timeout=60)
    assert r.status == 200 and r.json["deleted"] == 1, r
    col = c.records(ZONE, "?name=col.example.com.")
    assert [x["content"] for x in col] == ['"%s"' % COLLIDING[1]], col
    # the id names one record again
    r = c.delete(ZONE, COLLIDING_ID, wait=True)
    assert r.status == 200 and r.json["record"]["content"] == '"%s"' % COLLIDING[1], r
    assert c.records(ZONE, "?name=col.example.com.") == []
