# SPDX-License-Identifier: MIT
"""The record API from the outside: requests made with curl (a real HTTP client) over the
daemon's Unix socket or its TCP listener, the error shape of the contract (doc/api.md),
the published signed file read back with dnspython, and a snapshot of everything a
refused write must leave alone."""
import hashlib
import json
import os
import re
import socket
import tempfile
import time
from pathlib import Path

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from .daemon import wait_for
from .tools import run

HEX16 = re.compile(r"^[0-9a-f]{16}$")


class Response:
    def __init__(self, status, text, content_type, stderr=""):
        self.status = status
        self.text = text
        self.content_type = content_type
        self.stderr = stderr
        try:
            self.json = json.loads(text) if text else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<HTTP %d %s>" % (self.status, self.text[:2000])


class Client:
    """curl against the Unix socket (`sock`) or a TCP base URL (`base`)."""

    def __init__(self, sock=None, base="http://zonekeeper", token=None):
        self.sock = sock
        self.base = base
        self.token = token

    def request(self, method, path, body=None, headers=(), timeout=20, token=None,
                json_body=None):
        if json_body is not None:
            body = json.dumps(json_body)
        args = ["curl", "-s", "--max-time", str(timeout), "-X", method,
                "-w", "\n%{content_type}\n%{http_code}"]
        if self.sock:
            args += ["--unix-socket", str(self.sock)]
        tok = token if token is not None else self.token
        if tok:
            args += ["-H", "Authorization: Bearer " + tok]
        for h in headers:
            args += ["-H", h]
        tmp = None
        try:
            if body is not None:
                # through a file: large and non-UTF-8 bodies, no argument length limit
                fd, tmp = tempfile.mkstemp(prefix="zkbody-")
                with os.fdopen(fd, "wb") as f:
                    f.write(body.encode() if isinstance(body, str) else body)
                args += ["-H", "Content-Type: application/json", "--data-binary", "@" + tmp]
            p = run(args + [self.base + path], timeout=timeout + 15)
        finally:
            if tmp:
                os.unlink(tmp)
        rest, _, code = p.stdout.rpartition("\n")
        text, _, ctype = rest.rpartition("\n")
        if code in ("", "000"):
            raise AssertionError("no HTTP response for %s %s (curl exit %d): %s"
                                 % (method, path, p.returncode, p.stderr))
        return Response(int(code), text, ctype, p.stderr)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    # the record endpoints
    def records(self, zone, query=""):
        r = self.get("/v1/zones/%s/records%s" % (zone, query))
        assert r.status == 200 and r.json and r.json.get("status") == "ok", r
        return r.json["records"]

    def post(self, zone, rec, wait=False, **kw):
        return self.request("POST", "/v1/zones/%s/records%s"
                            % (zone, "?wait=published" if wait else ""),
                            json_body=rec if not isinstance(rec, (str, bytes)) else None,
                            body=rec if isinstance(rec, (str, bytes)) else None, **kw)

    def put(self, zone, rid, rec, wait=False, **kw):
        return self.request("PUT", "/v1/zones/%s/records/%s%s"
                            % (zone, rid, "?wait=published" if wait else ""),
                            json_body=rec if not isinstance(rec, (str, bytes)) else None,
                            body=rec if isinstance(rec, (str, bytes)) else None, **kw)

    def delete(self, zone, rid, wait=False, **kw):
        return self.request("DELETE", "/v1/zones/%s/records/%s%s"
                            % (zone, rid, "?wait=published" if wait else ""), **kw)


def assert_error(r, http, code, *in_message):
    """The one error shape of the contract, exactly: {"status":"error","error":{"code",
    "message"}} with a non-empty message (containing each of `in_message`)."""
    assert r.status == http, "expected HTTP %d %s, got %r" % (http, code, r)
    j = r.json
    assert isinstance(j, dict), "not a JSON object: %r" % r
    assert set(j) == {"status", "error"} and j["status"] == "error", r
    assert isinstance(j["error"], dict) and set(j["error"]) == {"code", "message"}, r
    assert j["error"]["code"] == code, "expected %s, got %r" % (code, r)
    msg = j["error"]["message"]
    assert isinstance(msg, str) and msg.strip(), r
    for m in in_message:
        assert m.lower() in msg.lower(), "%r not in the message: %r" % (m, msg)
    assert r.content_type.startswith("application/json"), r.content_type
    return msg


def assert_record_shape(rec):
    assert set(rec) == {"id", "name", "type", "content", "ttl", "system"}, rec
    assert HEX16.match(rec["id"]), rec
    assert rec["name"].endswith(".") and rec["name"] == rec["name"].lower(), rec
    assert isinstance(rec["ttl"], int) and isinstance(rec["system"], bool), rec


# ---------------------------------------------------------------- the published file

class Rec:
    __slots__ = ("name", "ttl", "type", "text")

    def __init__(self, name, ttl, rtype, text):
        self.name, self.ttl, self.type, self.text = name, ttl, rtype, text

    def __repr__(self):
        return "%s %d %s %s" % (self.name, self.ttl, self.type, self.text)


def zone_records(path):
    """The records of a zone file written one per line (name TTL class type rdata), as the
    writer does."""
    out = []
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.startswith(";") or line.startswith("$"):
            continue
        f = line.split(None, 4)
        assert len(f) >= 4 and f[2] == "IN", "unexpected line in %s: %r" % (path, line)
        out.append(Rec(canon(f[0]), int(f[1]), f[3].upper(), f[4] if len(f) > 4 else ""))
    return out


def canon(name):
    """One spelling of a name: dnspython's presentation of it, lowercase."""
    return dns.name.from_text(name).to_text().lower()


def _rdata(rtype, text, origin):
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), text,
                               origin=dns.name.from_text(origin))


def find(recs, name, rtype, content=None, origin="."):
    """The records at name/type (with that content, compared as RDATA)."""
    name = canon(name)
    got = [r for r in recs if r.name == name and r.type == rtype.upper()]
    if content is None:
        return got
    want = _rdata(rtype, content, origin)
    return [r for r in got if _rdata(rtype, r.text, origin) == want]


def covered(recs, name, rtype):
    """RRSIGs at `name` covering `rtype`."""
    return [r for r in recs if r.name == canon(name) and r.type == "RRSIG"
            and r.text.split()[0].upper() == rtype.upper()]


def soa_serial(path):
    soa = [r for r in zone_records(path) if r.type == "SOA"]
    assert len(soa) == 1, soa
    return int(soa[0].text.split()[2])


def gt(a, b):
    return a != b and (a - b) % 2**32 < 2**31


# ---------------------------------------------------------------- nothing changed

def digest(path):
    p = Path(path)
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None


class Snapshot:
    """What a refused write must not change: the published file's bytes, the serial (API
    and file), the unsigned input file, the record listing."""

    def __init__(self, setup, daemon, client, zone, with_input=True):
        self.setup, self.d, self.c, self.zone = setup, daemon, client, zone
        self.with_input = with_input   # False while a write-back may still be due
        self.take()

    def _state(self):
        out = self.setup.output_file(self.zone)
        return {"published": digest(out),
                "file serial": soa_serial(out),
                "api serial": self.d.zone(self.zone)["serial"],
                "input": digest(self.setup.input_file(self.zone)) if self.with_input else None,
                "records": sorted(json.dumps(r, sort_keys=True)
                                  for r in self.c.records(self.zone))}

    def take(self):
        self.state = self._state()
        self.runs = self.d.zone(self.zone)["runs"]

    def check(self, what=""):
        now = self._state()
        for k in self.state:
            assert now[k] == self.state[k], "%s changed after %s" % (k, what)


def settle(setup, daemon, zone, quiet=0.4, timeout=30):
    """Wait until the zone is published and nothing moves for `quiet` seconds: the API
    serial is the file's, the input and output files stay the same."""
    def state():
        z = daemon.zone(zone)
        out = setup.output_file(zone)
        if z["state"] != "ok" or not out.exists():
            return None
        return (z["serial"], soa_serial(out), digest(out), digest(setup.input_file(zone)))

    def quiet_now():
        a = state()
        if not a or a[0] != a[1]:
            return False
        time.sleep(quiet)
        return state() == a
    wait_for(quiet_now, timeout, "the zone to settle")


def tcp_free_port(addr="127.0.0.1"):
    with socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET,
                       socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def set_api(setup, **settings):
    """Rewrite the `api` group Setup wrote, keeping its socket, with more settings."""
    def val(v):
        if isinstance(v, (list, tuple)):
            return "[ %s ]" % ", ".join(val(x) for x in v)
        if isinstance(v, str):
            return '"%s"' % v
        return str(v)
    body = 'socket = "%s"; ' % setup.api_socket + "".join(
        "%s = %s; " % (k, val(v)) for k, v in settings.items())
    text = setup.config.read_text()
    old = 'api = { socket = "%s"; };' % setup.api_socket
    assert old in text, "no api group to rewrite in %s" % setup.config
    setup.config.write_text(text.replace(old, "api = { %s};" % body))


def raw_http(sock_path, method, path, body=b"", timeout=10.0, headers=()):
    """One HTTP/1.1 request over the Unix socket with a plain socket, returning as soon as
    the whole response is in (status, json). For the crash test: the ack is seen with the
    least delay possible before the kill."""
    if isinstance(body, str):
        body = body.encode()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(str(sock_path))
        req = ("%s %s HTTP/1.1\r\nHost: zonekeeper\r\nConnection: close\r\n"
               "Content-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
               % (method, path, len(body), "".join(h + "\r\n" for h in headers))).encode()
        s.sendall(req + body)
        buf = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if b"\r\n\r\n" in buf:
                head, _, rest = buf.partition(b"\r\n\r\n")
                m = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
                if m and len(rest) >= int(m.group(1)):
                    status = int(head.split(b" ", 2)[1])
                    return status, json.loads(rest[:int(m.group(1))] or b"null")
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if sep and head.startswith(b"HTTP/"):  # no Content-Length: the body ends at close
            return int(head.split(b" ", 2)[1]), json.loads(rest or b"null")
        raise AssertionError("incomplete response to %s %s: %r" % (method, path, buf[:500]))
    finally:
        s.close()
