#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# bench/api_load.py -- load generator for zonekeeperd's record API (bench/api.sh).
# Debian's python3 only: HTTP/1.1 with keep-alive over the Unix socket on raw sockets,
# one connection and one thread per client.
#
#   api_load.py ready SOCKET ZONE [TIMEOUT]
#       wait until GET /v1/zones/ZONE says state "ok" with a serial; print the zone JSON
#   api_load.py zone SOCKET ZONE
#       print the zone JSON (one GET)
#   api_load.py write SOCKET ZONE --clients C --writes N --prefix P [--wait] [--json FILE]
#                     [--max-seconds S]
#       N POSTs of new A records (names P-c<client>-<i>, unique), split over C concurrent
#       clients, each sending its next request when the previous one is answered; with
#       --max-seconds, no client starts a request S seconds after the start (the figures
#       are then over the writes made).
#       Prints one line; --json writes the raw figures.
#       rate = acknowledged writes / wall time from the first send to the last answer.
#       latency = per request, send to complete response (POST-to-published with --wait).
import json
import os
import socket
import sys
import threading
import time


class Conn:
    """One keep-alive HTTP/1.1 connection on a Unix socket."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.rf = None

    def connect(self):
        self.close()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.path)
        self.sock = s
        self.rf = s.makefile("rb", buffering=65536)

    def close(self):
        if self.rf:
            self.rf.close()
        if self.sock:
            self.sock.close()
        self.sock = self.rf = None

    def request(self, method, target, body=None):
        if self.sock is None:
            self.connect()
        head = "%s %s HTTP/1.1\r\nHost: zk\r\n" % (method, target)
        if body is not None:
            data = body.encode()
            head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(data)
        else:
            data = b""
        self.sock.sendall(head.encode() + b"\r\n" + data)
        return self._response()

    def _response(self):
        line = self.rf.readline()
        if not line:
            raise ConnectionError("connection closed by the daemon")
        parts = line.split(None, 2)
        status = int(parts[1])
        length = None
        chunked = False
        close = False
        while True:
            h = self.rf.readline()
            if not h:
                raise ConnectionError("connection closed in the headers")
            if h in (b"\r\n", b"\n"):
                break
            k, _, v = h.decode("latin-1").partition(":")
            k = k.strip().lower()
            v = v.strip()
            if k == "content-length":
                length = int(v)
            elif k == "transfer-encoding" and "chunked" in v.lower():
                chunked = True
            elif k == "connection" and v.lower() == "close":
                close = True
        if chunked:
            body = b""
            while True:
                n = int(self.rf.readline().split(b";")[0], 16)
                if n == 0:
                    while self.rf.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                body += self.rf.read(n)
                self.rf.readline()
        elif length is not None:
            body = self.rf.read(length)
        else:
            body = self.rf.read()
            close = True
        if close:
            self.close()
        return status, body


def zone_path(zone):
    return "/v1/zones/" + zone.rstrip(".") + "."


def get_zone(sock, zone):
    c = Conn(sock)
    try:
        st, body = c.request("GET", zone_path(zone))
    finally:
        c.close()
    if st != 200:
        raise RuntimeError("GET zone: HTTP %d %s" % (st, body[:200]))
    return json.loads(body)["zone"]


def cmd_ready(sock, zone, timeout=1800.0):
    t_end = time.monotonic() + float(timeout)
    while True:
        try:
            z = get_zone(sock, zone)
            if z.get("state") == "ok" and z.get("serial"):
                print(json.dumps(z))
                return 0
            if z.get("state") == "error":
                print(json.dumps(z), file=sys.stderr)
        except (OSError, ConnectionError, RuntimeError, ValueError):
            pass
        if time.monotonic() > t_end:
            print("api_load: the zone is not ready after %s s" % timeout, file=sys.stderr)
            return 1
        time.sleep(0.2)


def pct(v, p):
    """Nearest-rank percentile of a sorted list."""
    if not v:
        return float("nan")
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


def cmd_write(sock, zone, clients, writes, prefix, wait, json_out, max_s=0.0):
    target = zone_path(zone) + "/records" + ("?wait=published" if wait else "")
    per = [writes // clients + (1 if i < writes % clients else 0) for i in range(clients)]
    conns = [Conn(sock) for _ in range(clients)]
    for c in conns:
        c.connect()
    barrier = threading.Barrier(clients + 1)
    lat = [[] for _ in range(clients)]
    serials = [[] for _ in range(clients)]
    errors = [[] for _ in range(clients)]
    first = [None] * clients
    last = [None] * clients

    t_start = [0.0]
    stopped = [False]

    def run(ci):
        c = conns[ci]
        barrier.wait()
        for i in range(per[ci]):
            if max_s and time.monotonic() - t_start[0] > max_s:
                stopped[0] = True
                break
            body = json.dumps({"name": "%s-c%d-%d" % (prefix, ci, i), "type": "A",
                               "content": "198.51.100.%d" % (i % 254 + 1), "ttl": 300})
            t0 = time.monotonic()
            if first[ci] is None:
                first[ci] = t0
            try:
                st, rb = c.request("POST", target, body)
            except (OSError, ConnectionError) as e:
                errors[ci].append("connection: %s" % e)
                c.close()
                continue
            t1 = time.monotonic()
            if st == 201:
                lat[ci].append(t1 - t0)
                last[ci] = t1
                if wait:
                    try:
                        serials[ci].append(json.loads(rb).get("serial"))
                    except ValueError:
                        pass
            else:
                errors[ci].append("HTTP %d %s" % (st, rb[:160].decode("utf-8", "replace")))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    cpu0 = os.times()
    t_start[0] = time.monotonic()
    barrier.wait()
    for t in threads:
        t.join()
    cpu1 = os.times()
    for c in conns:
        c.close()

    all_lat = sorted(x for l in lat for x in l)
    ok = len(all_lat)
    t_first = min(x for x in first if x is not None)
    t_last = max((x for x in last if x is not None), default=t_first)
    wall = t_last - t_first
    errs = [e for l in errors for e in l]
    res = {
        "clients": clients, "writes": writes, "acknowledged": ok, "errors": len(errs),
        "wall_s": wall, "rate": ok / wall if wall > 0 else 0.0,
        "p50_ms": pct(all_lat, 50) * 1e3, "p99_ms": pct(all_lat, 99) * 1e3,
        "max_ms": (all_lat[-1] if all_lat else float("nan")) * 1e3,
        "wait": wait, "stopped_early": stopped[0],
        "client_cpu_s": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
        "publications": len({s for l in serials for s in l if s is not None}),
        "latencies_ms": [round(x * 1e3, 2) for x in all_lat],
    }
    print("clients %d  writes %d  acknowledged %d  errors %d  wall %.2f s  %.0f writes/s  "
          "latency p50 %.1f ms  p99 %.1f ms  max %.1f ms  client CPU %.1f s%s"
          % (clients, writes, ok, len(errs), wall, res["rate"], res["p50_ms"], res["p99_ms"],
             res["max_ms"], res["client_cpu_s"],
             "  (%d distinct published serials)" % res["publications"] if wait else "")
          + ("  [stopped at --max-seconds %g]" % max_s if stopped[0] else ""))
    for e in errs[:5]:
        print("  error: %s" % e, file=sys.stderr)
    if json_out:
        with open(json_out, "w") as f:
            json.dump(res, f)
    return 0 if not errs else 1


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(open(__file__).read().split("\nimport ")[0] + "\n")
        return 2
    cmd, sock, zone = argv[0], argv[1], argv[2]
    if cmd == "ready":
        return cmd_ready(sock, zone, *(argv[3:4]))
    if cmd == "zone":
        print(json.dumps(get_zone(sock, zone)))
        return 0
    if cmd == "write":
        opts = {"--clients": "1", "--writes": "100", "--prefix": "api", "--json": None,
                "--max-seconds": "0"}
        wait = False
        rest = argv[3:]
        while rest:
            a = rest.pop(0)
            if a == "--wait":
                wait = True
            elif a in opts and rest:
                opts[a] = rest.pop(0)
            else:
                print("api_load: unknown argument %s" % a, file=sys.stderr)
                return 2
        return cmd_write(sock, zone, int(opts["--clients"]), int(opts["--writes"]),
                         opts["--prefix"], wait, opts["--json"], float(opts["--max-seconds"]))
    print("api_load: unknown command %s" % cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
