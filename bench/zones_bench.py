#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# bench/zones_bench.py -- the driver of bench/zones.sh: many small zones, zonekeeperd
# against Knot's automatic signing, same input, same run. Run it through zones.sh, which
# makes the work directory and cleans up; its arguments:
#
#   zones_bench.py --work DIR --zkd ZONEKEEPERD --zk ZONEKEEPER --zones N --json FILE
#                  [--rounds R] [--writes W] [--creates C] [--seed S] [--client inproc|cli]
#                  [--timeout S] [--pids FILE]
#
# Phases, one server running at a time, the order alternating from round to round:
#   cold     empty state -> every zone signed and on disk (rounds R)
#   restart  the same state and input -> ready (rounds R); the last restart of each server
#            goes on with:
#   writes   W single-record writes to random zones, each waited for until signed
#   creates  C new zones, each waited for until signed (last: a failure there costs
#            no other figure)
# Both servers see the same zone files (zones_gen.py) and the same random choices.
import argparse
import json
import os
import random
import resource
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import zones_gen  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
PROCS = []          # every server process started here, stopped on the way out
PIDS_FILE = None    # zones.sh kills what is listed there if this script is killed itself


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


class Fail(Exception):
    pass


# ------------------------------------------------------------------ process figures
def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK      # utime + stime, no children


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def n_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def figures(proc, t0, cpu0=0.0):
    """wall, CPU, peak RSS, fds of a running server, from t0 (and cpu0) on."""
    return {"wall_s": round(time.monotonic() - t0, 3),
            "cpu_s": round(cpu_s(proc.pid) - cpu0, 2),
            "peak_rss_mib": round(status_kib(proc.pid, "VmHWM") / 1024, 1),
            "rss_mib": round(status_kib(proc.pid, "VmRSS") / 1024, 1),
            "fds": n_fds(proc.pid)}


def start(argv, logfile):
    out = open(logfile, "ab")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    out.close()
    PROCS.append(p)
    write_pids()
    return p


def write_pids():
    """The servers running now, for zones.sh to stop if this script is killed itself."""
    if PIDS_FILE:
        with open(PIDS_FILE + ".tmp", "w") as f:
            f.write("".join("%d\n" % p.pid for p in PROCS))
        os.replace(PIDS_FILE + ".tmp", PIDS_FILE)


def stop(p, timeout=300):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            log("pid %d did not stop after %d s: SIGKILL" % (p.pid, timeout))
            p.kill()
            p.wait()
    if p in PROCS:
        PROCS.remove(p)
        write_pids()


def pause(t0):
    """Poll interval: short at first, about a twentieth of the time waited so far, <= 1 s."""
    time.sleep(min(1.0, max(0.02, (time.monotonic() - t0) / 20)))


def pct(v, p):
    """Nearest-rank percentile."""
    v = sorted(v)
    if not v:
        return None
    return v[max(0, min(len(v) - 1, -(-p * len(v) // 100) - 1))]


def lat_summary(ms):
    if not ms:
        return None
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 2), "p99_ms": round(pct(ms, 99), 2),
            "mean_ms": round(statistics.mean(ms), 2), "max_ms": round(max(ms), 2)}


def free_port():
    """A port free on 127.0.0.1 for both UDP and TCP."""
    for _ in range(200):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise Fail("no free port on 127.0.0.1")


# ------------------------------------------------------------------ HTTP on the Unix socket
def http(sock, method, target, body=None, timeout=600):
    """One request on a new connection; returns (status, body bytes)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock)
        data = body.encode() if body is not None else b""
        head = "%s %s HTTP/1.1\r\nHost: zk\r\nConnection: close\r\n" % (method, target)
        if body is not None:
            head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(data)
        s.sendall(head.encode() + b"\r\n" + data)
        f = s.makefile("rb")
        line = f.readline()
        if not line.startswith(b"HTTP/"):
            raise ConnectionError("%s %s: the connection closed without an answer%s" % (
                method, target.split("?")[0], (" (%r)" % line[:80]) if line else ""))
        status = int(line.split()[1])
        length, chunked = None, False
        while True:
            h = f.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            k = k.strip().lower()
            if k == "content-length":
                length = int(v)
            elif k == "transfer-encoding" and "chunked" in v.lower():
                chunked = True
        if chunked:
            out = b""
            while True:
                n = int(f.readline().split(b";")[0], 16)
                if n == 0:
                    break
                out += f.read(n)
                f.readline()
        elif length is not None:
            out = f.read(length)
        else:
            out = f.read()
        f.close()
        return status, out
    finally:
        s.close()


def http_cli(sock, method, target, body=None, timeout=600):
    argv = ["curl", "-sS", "--max-time", str(timeout), "--unix-socket", sock, "-X", method,
            "-o", "-", "-w", "\n%{http_code}", "http://zk" + target]
    if body is not None:
        argv[1:1] = ["-H", "Content-Type: application/json", "--data-binary", "@-"]
    r = subprocess.run(argv, input=(body or "").encode(), stdout=subprocess.PIPE, check=True)
    out, _, code = r.stdout.rpartition(b"\n")
    return int(code), out


# ------------------------------------------------------------------ Knot's control socket
class KnotCtl:
    """The control protocol of knotd through libknot (the library knotc uses)."""
    IDX = {"cmd": 0, "flags": 1, "error": 2, "section": 3, "item": 4, "id": 5, "zone": 6,
           "owner": 7, "ttl": 8, "type": 9, "data": 10, "filter": 11}
    lib = None

    @classmethod
    def load(cls):
        if cls.lib:
            return
        import ctypes as C
        lib = None
        for name in ("libknot.so.13", "libknot.so.14", "libknot.so.15", "libknot.so"):
            try:
                lib = C.CDLL(name)
                break
            except OSError:
                continue
        if lib is None:
            raise Fail("libknot not found (it comes with knot)")
        lib.knot_ctl_alloc.restype = C.c_void_p
        lib.knot_ctl_free.argtypes = [C.c_void_p]
        lib.knot_ctl_set_timeout.argtypes = [C.c_void_p, C.c_int]
        lib.knot_ctl_connect.argtypes = [C.c_void_p, C.c_char_p]
        lib.knot_ctl_connect.restype = C.c_int
        lib.knot_ctl_close.argtypes = [C.c_void_p]
        lib.knot_ctl_send.argtypes = [C.c_void_p, C.c_uint, C.c_void_p]
        lib.knot_ctl_send.restype = C.c_int
        lib.knot_ctl_receive.argtypes = [C.c_void_p, C.c_void_p, C.c_void_p]
        lib.knot_ctl_receive.restype = C.c_int
        lib.knot_strerror.restype = C.c_char_p
        lib.knot_strerror.argtypes = [C.c_int]
        cls.lib, cls.C = lib, C
        # room for more indices than this version has: the library reads and writes its own
        # count of them
        cls.Arr = C.c_char_p * 32

    def __init__(self, path, timeout=600):
        self.load()
        self.o = self.lib.knot_ctl_alloc()
        self.lib.knot_ctl_set_timeout(self.o, int(timeout * 1000))
        r = self.lib.knot_ctl_connect(self.o, path.encode())
        if r:
            self.lib.knot_ctl_free(self.o)
            raise OSError("knot control connect: " + self.lib.knot_strerror(r).decode())

    def _check(self, r):
        if r:
            raise OSError("knot control: " + self.lib.knot_strerror(r).decode())

    def cmd(self, **kw):
        a = self.Arr()
        for k, v in kw.items():
            a[self.IDX[k]] = v.encode()
        self._check(self.lib.knot_ctl_send(self.o, 1, a))        # DATA
        self._check(self.lib.knot_ctl_send(self.o, 3, None))     # BLOCK
        out, err = [], None
        while True:
            a = self.Arr()
            t = self.C.c_uint()
            self._check(self.lib.knot_ctl_receive(self.o, self.C.byref(t), a))
            if t.value not in (1, 2):                            # DATA, EXTRA
                break
            d = {k: a[i].decode() for k, i in self.IDX.items() if a[i]}
            if "error" in d:
                err = d["error"]
            out.append(d)
        if err:
            raise RuntimeError("knot %s: %s" % (kw.get("cmd"), err))
        return out

    def close(self):
        self.lib.knot_ctl_send(self.o, 0, None)                  # END
        self.lib.knot_ctl_close(self.o)
        self.lib.knot_ctl_free(self.o)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


# ------------------------------------------------------------------ DNS
def dns_signed(port, qname, rtype, rdata=None):
    """True once 127.0.0.1@port answers qname/rtype (with rdata, if given) and its RRSIG."""
    import dns.message
    import dns.query
    import dns.rdatatype
    q = dns.message.make_query(qname, rtype, want_dnssec=True)
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1.0)
    except Exception:
        return False
    t = dns.rdatatype.from_text(rtype)
    have = sig = False
    for rrset in r.answer:
        if rrset.rdtype == t and (rdata is None or any(x.to_text() == rdata for x in rrset)):
            have = True
        elif rrset.rdtype == dns.rdatatype.RRSIG and any(x.type_covered == t for x in rrset):
            sig = True
    return have and sig


def read_head(path, n=8192):
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError:
        return b""


def file_has(path, needle):
    try:
        with open(path, "rb") as f:
            return needle in f.read()
    except OSError:
        return False


# ------------------------------------------------------------------ the servers
class Server:
    name = "?"

    def __init__(self, a, src, names):
        self.a, self.src, self.names = a, src, names
        self.dir = os.path.join(a.work, self.key)
        self.log = os.path.join(self.dir, self.key + ".log")
        self.p = None
        self.failed = None

    def launched(self):
        try:
            self.log_off = os.path.getsize(self.log)
        except OSError:
            self.log_off = 0

    def check(self):
        """Fail at once when the server exited or logged an error while we wait on it."""
        if self.p.poll() is not None:
            tail = []
            for f in (self.log, self.stdout):
                try:
                    tail += open(f, errors="replace").read().splitlines()[-10:]
                except OSError:
                    pass
            raise Fail("%s exited with status %s:\n  %s" % (self.name, self.p.returncode,
                                                            "\n  ".join(tail)))
        try:
            with open(self.log, "rb") as f:
                f.seek(self.log_off)
                chunk = f.read()
        except OSError:
            return
        end = chunk.rfind(b"\n") + 1
        self.log_off += end
        for line in chunk[:end].decode(errors="replace").splitlines():
            if self.ERROR.search(line):
                raise Fail("%s logged an error: %s" % (self.name, line.strip()[:500]))

    def copy_input(self, dst):
        if os.path.isdir(dst):
            shutil.rmtree(dst)
        shutil.copytree(self.src, dst)


class Zonekeeper(Server):
    key, name = "zonekeeper", "zonekeeperd"
    ERROR = re.compile(r"\[(error|crit|alert|emerg)\]")

    def setup(self):
        d = self.dir
        self.inp, self.out = os.path.join(d, "in"), os.path.join(d, "out")
        self.state, self.sock = os.path.join(d, "state"), os.path.join(d, "api.sock")
        self.conf = os.path.join(d, "zonekeeper.conf")
        for x in (self.state, self.out):
            if os.path.isdir(x):
                shutil.rmtree(x)
        os.makedirs(self.out)
        self.copy_input(self.inp)
        # the default policy, with the platform's nameservers the zones carry
        with open(self.conf, "w") as f:
            f.write('paths = { state_dir = "%s"; input_dir = "%s"; output_dir = "%s"; };\n'
                    % (self.state, self.inp, self.out))
            f.write('api = { socket = "%s"; };\n' % self.sock)
            f.write('policies = ( { name = "default"; algorithm = "ECDSAP256SHA256";'
                    ' denial = "nsec3";\n  nameservers = [ "%s", "%s" ]; } );\n'
                    % zones_gen.NAMESERVERS)
            f.write("zones = (\n")
            f.write(",\n".join('  { name = "%s"; }' % z for z in self.names))
            f.write("\n);\n")

    def launch(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.stdout = self.log
        self.launched()
        self.p = start([self.a.zkd, "--config", self.conf], self.log)

    def request(self, method, target, body=None, timeout=600):
        f = http_cli if self.a.client == "cli" else http
        return f(self.sock, method, target, body, timeout)

    def listing(self):
        """Every zone of GET /v1/zones, page after page (at most 10000 a page; a server
        without pages answers all at once and no "next")."""
        zones, after = [], None
        while True:
            target = "/v1/zones?limit=10000"
            if after:
                target += "&after=" + urllib.parse.quote(after)
            st, body = http(self.sock, "GET", target)
            if st != 200:
                raise Fail("GET %s: HTTP %d %s" % (target, st, body[:300]))
            j = json.loads(body)
            zones += j["zones"]
            after = j.get("next")
            if not after or not j["zones"]:
                return zones

    def all_ok(self):
        """(ok, serials) once every configured zone is "ok" with a serial, else (False, why)."""
        try:
            zs = self.listing()
        except (OSError, ValueError):
            return False, "API not answering"
        by = {z["name"]: z for z in zs}
        bad = [n for n in self.names if by.get(n, {}).get("state") != "ok"
               or not by.get(n, {}).get("serial")]
        if bad:
            states = {}
            for n in bad:
                s = by.get(n, {}).get("state", "missing")
                states[s] = states.get(s, 0) + 1
            return False, "%d zones not ok %s" % (len(bad), states)
        return True, {n: by[n]["serial"] for n in self.names}

    def wait_signed(self, t0, deadline):
        """Cold start: every output file there, then every zone ok in the API."""
        want = set(n + "zone" for n in self.names)
        while True:
            self.check()
            have = sum(1 for e in os.scandir(self.out) if e.name in want)
            if have == len(want):
                break
            if time.monotonic() > deadline:
                raise Fail("zonekeeperd: %d of %d zones on disk after the timeout"
                           % (have, len(want)))
            pause(t0)
        return self.wait_ready(t0, deadline)

    def wait_ready(self, t0, deadline):
        why = ""
        while True:
            self.check()
            ok, res = self.all_ok()
            if ok:
                return res
            why = res
            if time.monotonic() > deadline:
                raise Fail("zonekeeperd not ready after the timeout: %s" % why)
            pause(t0)

    def output_file(self, z):
        return os.path.join(self.out, z + "zone")

    def mtimes(self):
        return {n: os.stat(self.output_file(n)).st_mtime_ns for n in self.names}

    def write(self, zone, owner, addr):
        """POST one A record ?wait=published; returns (ms to published, ms to disk, note)."""
        body = json.dumps({"name": owner, "type": "A", "content": addr, "ttl": 3600})
        t0 = time.monotonic()
        st, out = self.request("POST", "/v1/zones/%s/records?wait=published" % zone, body, 60)
        ms = (time.monotonic() - t0) * 1000
        if st not in (200, 201):
            raise Fail("POST record to %s: HTTP %d %s" % (zone, st, out[:300]))
        if not file_has(self.output_file(zone), ("\n" + owner).encode()):
            raise Fail("%s answered published but %s is not in its output file" % (zone, owner))
        return ms, ms

    def create(self, zone, text):
        """POST /v1/zones ?wait=published; returns (ms, ms) or a string: why not measured."""
        body = json.dumps({"name": zone, "zone": text})
        t0 = time.monotonic()
        st, out = self.request("POST", "/v1/zones?wait=published", body, 120)
        ms = (time.monotonic() - t0) * 1000
        if st in (404, 405, 501):
            return "n/a (endpoint answered %d)" % st
        if st not in (200, 201):
            try:
                msg = json.loads(out)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                msg = out[:200].decode(errors="replace")
            return "n/a (endpoint answered %d: %s)" % (st, msg[:200])
        if not os.path.exists(self.output_file(zone)):
            # the endpoint may publish elsewhere: the API's word is what counts then
            st2, _ = http(self.sock, "GET", "/v1/zones/" + zone)
            if st2 != 200:
                raise Fail("created %s but GET answers %d" % (zone, st2))
        return ms, ms


class Knot(Server):
    key, name = "knot", "knotd"
    ERROR = re.compile(r"^\S+ (error|critical): ")

    def setup(self):
        d = self.dir
        self.zones, self.db = os.path.join(d, "zones"), os.path.join(d, "db")
        self.run, self.conf = os.path.join(d, "run"), os.path.join(d, "knot.conf")
        self.sock = os.path.join(self.run, "knot.sock")
        self.ctlconf = os.path.join(d, "knotc.conf")
        for x in (self.db, self.run):
            if os.path.isdir(x):
                shutil.rmtree(x)
            os.makedirs(x)
        self.copy_input(self.zones)
        # the copies' inodes: knotd replaces each file (rename) once it is signed
        self.inode0 = {e.name: e.inode() for e in os.scandir(self.zones)}
        self.port = free_port()
        # Automatic signing with zonekeeper's default policy: ECDSAP256SHA256, KSK + ZSK,
        # NSEC3 without iterations or salt (RFC 9276), signatures valid 14 days, refreshed
        # 7 days before they expire, CDS/CDNSKEY published, date serials. zonefile-sync: 0
        # writes the signed zone file (atomically) after every change, as zonekeeperd does.
        with open(self.conf, "w") as f:
            f.write("""server:
    rundir: "{run}"
    listen: 127.0.0.1@{port}
log:
  - target: "{log}"
    any: info
database:
    storage: "{db}"
    journal-db-max-size: 64G
    kasp-db-max-size: 8G
    timer-db-max-size: 2G
control:
    listen: "{sock}"
policy:
  - id: zk
    algorithm: ecdsap256sha256
    ksk-lifetime: 365d
    zsk-lifetime: 90d
    nsec3: on
    nsec3-iterations: 0
    nsec3-salt-length: 0
    rrsig-lifetime: 14d
    rrsig-refresh: 7d
    dnskey-ttl: 1h
    propagation-delay: 5m
    cds-cdnskey-publish: always
template:
  - id: default
    storage: "{zones}"
    file: "%s.zone"
    dnssec-signing: on
    dnssec-policy: zk
    zonefile-sync: 0
    serial-policy: dateserial
zone:
""".format(run=self.run, port=self.port, log=self.log, db=self.db, sock=self.sock,
           zones=self.zones))
            for z in self.names:
                f.write("  - domain: %s\n" % z)
        with open(self.ctlconf, "w") as f:
            f.write('control:\n    listen: "%s"\n' % self.sock)

    def launch(self):
        self.stdout = os.path.join(self.dir, "knotd.stdout")
        self.launched()
        self.p = start(["knotd", "-c", self.conf], self.stdout)

    def ctl(self, timeout=600):
        return KnotCtl(self.sock, timeout)

    def serials(self):
        """{zone: serial} of the loaded zones, None if the control socket does not answer."""
        try:
            with self.ctl() as c:
                c.cmd(cmd="status")
                rows = c.cmd(cmd="zone-status", filter="s")
        except (OSError, RuntimeError):
            return None
        return {r["zone"]: int(r["data"]) for r in rows
                if r.get("type") == "serial" and r.get("data", "").isdigit()}

    def zone_file(self, z):
        return os.path.join(self.zones, z.rstrip(".") + ".zone")

    def wait_signed(self, t0, deadline):
        """Cold start: every zone file replaced by its signed version, then every zone loaded."""
        todo = {os.path.basename(self.zone_file(z)): z for z in self.names}
        inode0 = self.inode0
        while todo:
            self.check()
            for e in os.scandir(self.zones):
                if e.name in todo and e.inode() != inode0.get(e.name):
                    head = read_head(e.path)
                    if b"NSEC3PARAM" in head or b"RRSIG" in head:
                        del todo[e.name]
            if not todo:
                break
            if time.monotonic() > deadline:
                raise Fail("knotd: %d of %d zones signed on disk after the timeout"
                           % (len(self.names) - len(todo), len(self.names)))
            pause(t0)
        return self.wait_ready(t0, deadline)

    def wait_ready(self, t0, deadline):
        why = "control socket not answering"
        while True:
            self.check()
            s = self.serials()
            if s is not None:
                missing = [z for z in self.names if z not in s]
                if not missing:
                    return {z: s[z] for z in self.names}
                why = "%d zones not loaded" % len(missing)
            if time.monotonic() > deadline:
                raise Fail("knotd not ready after the timeout: %s" % why)
            pause(t0)

    def mtimes(self):
        return {n: os.stat(self.zone_file(n)).st_ino for n in self.names}

    def wait_both(self, t0, served, disk, what, timeout):
        t_served = t_disk = None
        while t_served is None or t_disk is None:
            if t_served is None and served():
                t_served = time.monotonic()
            if t_disk is None and disk():
                t_disk = time.monotonic()
            if t_served is not None and t_disk is not None:
                break
            if time.monotonic() - t0 > timeout:
                raise Fail("knotd: %s not signed %s after %d s" % (
                    what, "and served" if t_served is None else "on disk", timeout))
            time.sleep(0.001)
        return (t_served - t0) * 1000, (t_disk - t0) * 1000

    def knotc(self, *args):
        subprocess.run(["knotc", "-c", self.ctlconf, "-t", "600"] + list(args), check=True,
                       stdout=subprocess.DEVNULL)

    def write(self, zone, owner, addr):
        """zone-begin/set/commit of one A record; (ms to served signed, ms to on disk)."""
        t0 = time.monotonic()
        if self.a.client == "cli":
            self.knotc("zone-begin", zone)
            self.knotc("zone-set", zone, owner, "3600", "A", addr)
            self.knotc("zone-commit", zone)
        else:
            with self.ctl() as c:
                c.cmd(cmd="zone-begin", zone=zone)
                try:
                    c.cmd(cmd="zone-set", zone=zone, owner=owner, ttl="3600", type="A", data=addr)
                    c.cmd(cmd="zone-commit", zone=zone)
                except RuntimeError:
                    c.cmd(cmd="zone-abort", zone=zone)
                    raise
        path, needle = self.zone_file(zone), ("\n" + owner).encode()
        return self.wait_both(t0, lambda: dns_signed(self.port, owner, "A", addr),
                              lambda: file_has(path, needle), owner, 60)

    def create(self, zone, text):
        """conf-begin/conf-set zone/conf-commit; (ms to served signed, ms to on disk)."""
        path = self.zone_file(zone)
        with open(path, "w") as f:
            f.write(text)
        ino = os.stat(path).st_ino
        t0 = time.monotonic()
        if self.a.client == "cli":
            self.knotc("conf-begin")
            self.knotc("conf-set", "zone[%s]" % zone)
            self.knotc("conf-commit")
        else:
            with self.ctl() as c:
                c.cmd(cmd="conf-begin")
                try:
                    c.cmd(cmd="conf-set", section="zone", item="domain", data=zone)
                    c.cmd(cmd="conf-commit")
                except RuntimeError:
                    c.cmd(cmd="conf-abort")
                    raise

        def on_disk():
            try:
                return os.stat(path).st_ino != ino and b"NSEC3PARAM" in read_head(path)
            except OSError:
                return False
        return self.wait_both(t0, lambda: dns_signed(self.port, zone, "SOA"), on_disk, zone, 120)


# ------------------------------------------------------------------ phases
def verify_sample(a, files, rng):
    """zonekeeper verify of a few signed files: (checked, failed names)."""
    failed = []
    pick = rng.sample(files, min(a.verify, len(files)))
    for origin, path in pick:
        r = subprocess.run([a.zk, "verify", "--origin", origin, path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            failed.append("%s: %s" % (origin, r.stdout.decode(errors="replace").strip()[-300:]))
    return len(pick), failed


def cold(s, a, res, rng):
    s.setup()
    log("%s: cold start, %d zones" % (s.name, len(s.names)))
    t0 = time.monotonic()
    s.launch()
    serials = s.wait_signed(t0, t0 + a.timeout)
    f = figures(s.p, t0)
    s.serials_cold = serials
    s.stamp = s.mtimes()
    if s.key == "zonekeeper":
        files = [(z, s.output_file(z)) for z in s.names]
    else:
        files = [(z, s.zone_file(z)) for z in s.names]
    f["verified"], f["verify_failed"] = verify_sample(a, files, rng)
    stop(s.p)
    log("%s: cold %.2f s wall, %.2f s CPU, %.0f MiB peak, %d fds" % (
        s.name, f["wall_s"], f["cpu_s"], f["peak_rss_mib"], f["fds"]))
    res[s.key].setdefault("cold", []).append(f)


def restart(s, a, res, keep_running):
    log("%s: restart, unchanged input" % s.name)
    t0 = time.monotonic()
    s.launch()
    serials = s.wait_ready(t0, t0 + a.timeout)
    f = figures(s.p, t0)
    f["serials_changed"] = sum(1 for z in s.names if serials[z] != s.serials_cold[z])
    now = s.mtimes()
    f["files_rewritten"] = sum(1 for z in s.names if now[z] != s.stamp[z])
    log("%s: ready %.2f s wall, %.2f s CPU, %d serials changed, %d files rewritten" % (
        s.name, f["wall_s"], f["cpu_s"], f["serials_changed"], f["files_rewritten"]))
    res[s.key].setdefault("restart", []).append(f)
    if not keep_running:
        stop(s.p)


def writes(s, a, res, targets):
    log("%s: %d single-record writes" % (s.name, len(targets)))
    served, disk = [], []
    c0, t0 = cpu_s(s.p.pid), time.monotonic()
    for k, i in enumerate(targets):
        zone = zones_gen.zone_name(i)
        ms = s.write(zone, "bw-%d.%s" % (k, zone), "192.0.2.%d" % (k % 250 + 1))
        served.append(ms[0])
        disk.append(ms[1])
    r = {"published": lat_summary(served), "on_disk": lat_summary(disk),
         "cpu_s": round(cpu_s(s.p.pid) - c0, 2), "wall_s": round(time.monotonic() - t0, 2)}
    log("%s: writes p50 %.1f ms p99 %.1f ms (on disk p50 %.1f p99 %.1f)" % (
        s.name, r["published"]["p50_ms"], r["published"]["p99_ms"],
        r["on_disk"]["p50_ms"], r["on_disk"]["p99_ms"]))
    res[s.key]["writes"] = r


def creates(s, a, res, new):
    log("%s: %d zone creations" % (s.name, len(new)))
    served, disk = [], []
    c0, t0 = cpu_s(s.p.pid), time.monotonic()
    for zone, text in new:
        ms = s.create(zone, text)
        if isinstance(ms, str):
            log("%s: zone creation %s" % (s.name, ms))
            res[s.key]["creates"] = {"na": ms}
            return
        served.append(ms[0])
        disk.append(ms[1])
    r = {"published": lat_summary(served), "on_disk": lat_summary(disk),
         "cpu_s": round(cpu_s(s.p.pid) - c0, 2), "wall_s": round(time.monotonic() - t0, 2)}
    log("%s: creates p50 %.1f ms p99 %.1f ms" % (s.name, r["published"]["p50_ms"],
                                                r["published"]["p99_ms"]))
    res[s.key]["creates"] = r


def session_figures(s, res):
    f = figures(s.p, time.monotonic())
    res[s.key]["end"] = {"peak_rss_mib": f["peak_rss_mib"], "rss_mib": f["rss_mib"],
                         "fds": f["fds"]}


def log_counts(s):
    try:
        text = open(s.log, errors="replace").read()
    except OSError:
        return {}
    if s.key == "knot":
        return {"errors": len(re.findall(r"^\S+ error: ", text, re.M)),
                "warnings": len(re.findall(r"^\S+ warning: ", text, re.M))}
    return {"errors": len(re.findall(r"\[(err|error|crit|alert|emerg)\]", text)),
            "warnings": len(re.findall(r"\[warning\]", text))}


def versions(a):
    out = {}
    for k, argv in (("zonekeeper", [a.zkd, "--version"]), ("knot", ["knotd", "--version"])):
        try:
            out[k] = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    timeout=10).stdout.decode().strip().splitlines()[0]
        except Exception:
            out[k] = "?"
    return out


def main():
    global PIDS_FILE
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--zkd", required=True)
    ap.add_argument("--zk", required=True)
    ap.add_argument("--zones", type=int, default=1000)
    ap.add_argument("--json", required=True)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--writes", type=int, default=200)
    ap.add_argument("--creates", type=int, default=50)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--client", choices=("inproc", "cli"), default="inproc")
    ap.add_argument("--timeout", type=float, default=0)
    ap.add_argument("--verify", type=int, default=5)
    ap.add_argument("--pids")
    ap.add_argument("--servers", default="zonekeeper,knot",
                    help="which servers run (comma-separated: zonekeeper, knot)")
    a = ap.parse_args()
    a.servers = [x.strip() for x in a.servers.split(",") if x.strip()]
    if not a.servers or set(a.servers) - {"zonekeeper", "knot"}:
        ap.error("--servers: zonekeeper and/or knot")
    PIDS_FILE = a.pids
    if not a.timeout:
        a.timeout = 600 + 0.1 * a.zones     # per wait for all zones: 100k zones, ~3 h
    t_begin = time.monotonic()

    src = os.path.join(a.work, "src")
    log("generating %d zones (+%d to create) in %s" % (a.zones, a.creates, a.work))
    out = subprocess.run([sys.executable, os.path.join(HERE, "zones_gen.py"), src, "1",
                          str(a.zones), str(a.seed)], stdout=subprocess.PIPE, check=True)
    names = out.stdout.decode().split()
    rrs = 0
    for e in os.scandir(src):
        with open(e.path, "rb") as f:
            rrs += f.read().count(b"\n")
    new = [(zones_gen.zone_name(i), zones_gen.zone_text(i, a.seed))
           for i in range(a.zones + 1, a.zones + 1 + a.creates)]
    rng = random.Random(a.seed)
    targets = [rng.randrange(1, a.zones + 1) for _ in range(a.writes)]

    zk, kn = Zonekeeper(a, src, names), Knot(a, src, names)
    res = {"zones": a.zones, "records": rrs, "records_per_zone": round(rrs / a.zones, 1),
           "rounds": a.rounds, "writes": a.writes, "creates": a.creates, "seed": a.seed,
           "client": a.client, "cores": os.cpu_count(), "versions": versions(a),
           "loadavg_start": open("/proc/loadavg").read().split()[:3],
           "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "nofile_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
           "zonekeeper": {}, "knot": {}}

    def guard(s, phase, fn, *args, **kw):
        """Run one phase; a failure ends that server's part of the run, not the other's."""
        if s.failed:
            return
        try:
            fn(*args, **kw)
        except Exception as e:      # not KeyboardInterrupt or SystemExit: those end the run
            s.failed = "%s: %s" % (phase, e)
            if s.p is not None and not isinstance(e, Fail):
                time.sleep(0.5)
                if s.p.poll() is not None:
                    rc = s.p.returncode
                    s.failed += " (%s %s)" % (s.name, "killed by signal %d" % -rc if rc < 0
                                              else "exited with status %d" % rc)
            log("%s FAILED in %s" % (s.name, s.failed))
            res[s.key]["failed"] = s.failed
            if s.p is not None:
                stop(s.p, 60)

    def order(r):
        return [s for s in ((zk, kn) if r % 2 == 0 else (kn, zk)) if s.key in a.servers]

    try:
        for r in range(a.rounds):
            for s in order(r):
                guard(s, "cold start", cold, s, a, res, rng)
        for r in range(a.rounds):
            last = r == a.rounds - 1
            for s in order(r):
                guard(s, "restart", restart, s, a, res, keep_running=last)
                if last:
                    guard(s, "record writes", writes, s, a, res, targets)
                    guard(s, "figures after the writes", session_figures, s, res)
                    guard(s, "zone creates", creates, s, a, res, new)
                    if s.p is not None:
                        stop(s.p)
    finally:
        for p in list(PROCS):
            stop(p, 30)
        res["wall_total_s"] = round(time.monotonic() - t_begin, 1)
        res["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        for s in (zk, kn):
            res.setdefault(s.key, {})["log"] = log_counts(s)
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 1 if zk.failed or kn.failed else 0


if __name__ == "__main__":
    def _term(sig, frame):
        raise SystemExit(128 + sig)
    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGHUP, _term)
    try:
        sys.exit(main())
    except Fail as e:
        log("FAILED: %s" % e)
        sys.exit(1)
