# SPDX-License-Identifier: MIT
"""Real DNS servers on loopback for the tests: NSD, Knot, BIND named and PowerDNS serving
signed zones, Unbound validating through them with our DS as trust anchor. Ports are
picked at run time; every server is stopped (by the PID we started) when the test ends."""
import os
import socket
import subprocess
import time
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode

from .tools import need


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(port, name, rdtype, dnssec=True, timeout=2.0, tries=10):
    """One UDP query to 127.0.0.1:port, retried a bounded number of times."""
    q = dns.message.make_query(name, rdtype, want_dnssec=dnssec)
    q.flags |= dns.flags.RD | dns.flags.AD
    last = None
    for _ in range(tries):
        try:
            # large answers (the 500-record RRset) come back truncated: retry over TCP
            r, _ = dns.query.udp_with_fallback(q, "127.0.0.1", port=port, timeout=timeout)
            return r
        except Exception as e:  # server still starting: try again, bounded
            last = e
            time.sleep(0.2)
    raise AssertionError("no answer from 127.0.0.1:%d for %s %s: %s" % (port, name, rdtype, last))


class Server:
    def __init__(self, args, workdir, name):
        self.log = open(Path(workdir) / (name + ".out"), "w")
        self.proc = subprocess.Popen([str(a) for a in args], stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=workdir)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def prepare(workdir):
    """A loopback port and the server's working directory."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    return free_port(), workdir


def wait_serving(server, zones, what):
    """Bounded wait until the server answers for the first zone."""
    first = next(iter(zones))
    r = query(server.port, first, "SOA", dnssec=False, tries=50)
    assert r.rcode() == dns.rcode.NOERROR, "%s does not serve %s: %s" % (what, first, r)


class Nsd(Server):
    """NSD serving zone files: {origin: path}."""

    def __init__(self, workdir, zones):
        need("nsd")
        self.port, workdir = prepare(workdir)
        conf = workdir / "nsd.conf"
        zl = "".join('zone:\n  name: "%s"\n  zonefile: "%s"\n' % (o, p) for o, p in zones.items())
        conf.write_text(
            'server:\n  ip-address: 127.0.0.1@{port}\n  port: {port}\n  username: ""\n'
            '  chroot: ""\n  zonesdir: "{d}"\n  pidfile: "{d}/nsd.pid"\n  database: ""\n'
            '  xfrdfile: "{d}/xfrd.state"\n  zonelistfile: "{d}/zone.list"\n'
            '  logfile: "{d}/nsd.log"\n  verbosity: 2\n  server-count: 1\n'
            'remote-control:\n  control-enable: no\n{zones}'.format(port=self.port, d=workdir,
                                                                   zones=zl))
        super().__init__(["nsd", "-d", "-c", conf], workdir, "nsd")
        wait_serving(self, zones, "NSD")


class Unbound(Server):
    """A validating resolver: stub zones to NSD, trust anchors given as DS lines."""

    def __init__(self, workdir, stubs, anchors):
        need("unbound")
        self.port, workdir = prepare(workdir)
        conf = workdir / "unbound.conf"
        ta = "".join('  trust-anchor: "%s"\n' % a for a in anchors)
        st = "".join('stub-zone:\n  name: "%s"\n  stub-addr: %s\n' % (n, a) for n, a in stubs)
        conf.write_text(
            'server:\n  interface: 127.0.0.1\n  port: {port}\n  do-not-query-localhost: no\n'
            '  username: ""\n  chroot: ""\n  directory: "{d}"\n  pidfile: "{d}/unbound.pid"\n'
            '  use-syslog: no\n  logfile: "{d}/unbound.log"\n  verbosity: 1\n'
            '  val-log-level: 2\n  module-config: "validator iterator"\n'
            '  aggressive-nsec: yes\n  harden-dnssec-stripped: yes\n  qname-minimisation: no\n'
            '  num-threads: 1\n  access-control: 127.0.0.0/8 allow\n  do-ip6: no\n'
            '  val-override-date: "{now}"\n'
            # RFC 6761 names such as test. are served locally by default: not here
            '  local-zone: "test." nodefault\n  local-zone: "invalid." nodefault\n{ta}'
            'remote-control:\n  control-enable: no\n{st}'.format(
                port=self.port, d=workdir, ta=ta, st=st, now=os.environ.get("ZK_VAL_DATE", "0")))
        run_check = subprocess.run(["unbound-checkconf", str(conf)], capture_output=True,
                                   text=True, timeout=30)
        assert run_check.returncode == 0, run_check.stdout + run_check.stderr
        super().__init__(["unbound", "-d", "-c", conf], workdir, "unbound")
        query(self.port, stubs[0][0], "SOA", dnssec=False, tries=50)  # up and answering


class Pdns(Server):
    """PowerDNS (bind backend) serving signed zone files as they are ("presigned"):
    {origin: path}."""

    def __init__(self, workdir, zones):
        need("pdns_server")
        need("pdnsutil")
        self.port, workdir = prepare(workdir)
        named = workdir / "named.conf"
        named.write_text("".join('zone "%s" { type master; file "%s"; };\n' % (o, p)
                                 for o, p in zones.items()))
        db = workdir / "bind-dnssec.sqlite3"
        (workdir / "pdns.conf").write_text(
            "launch=bind\nbind-config={named}\nbind-dnssec-db={db}\n"
            "local-address=127.0.0.1\nlocal-port={port}\nsocket-dir={d}\n"
            "guardian=no\ndaemon=no\ndisable-syslog=yes\nlog-dns-queries=no\n"
            "loglevel=4\nsetuid=\nsetgid=\n".format(named=named, db=db, port=self.port,
                                                    d=workdir))
        util = ["pdnsutil", "--config-dir", workdir]
        cmds = [["create-bind-db", db]]
        for o, path in zones.items():
            cmds.append(["set-presigned", o])
            # a presigned NSEC3 zone: PowerDNS takes the parameters from its metadata
            # (the opt-out flag from the NSEC3 records), not from the zone
            param = flags = None
            for l in Path(path).read_text().splitlines():
                f = l.split("\t")
                if len(f) == 5 and f[3] == "NSEC3PARAM":
                    param = f[4].split()
                elif len(f) == 5 and f[3] == "NSEC3" and flags is None:
                    flags = f[4].split()[1]
            if param:
                cmds.append(["set-nsec3", o, " ".join([param[0], flags or "0"] + param[2:])])
        for args in cmds:
            p = subprocess.run([str(a) for a in util + args], capture_output=True, text=True,
                               timeout=60)
            assert p.returncode == 0, "pdnsutil %s: %s%s" % (args, p.stdout, p.stderr)
        super().__init__(["pdns_server", "--config-dir=%s" % workdir], workdir, "pdns")
        wait_serving(self, zones, "PowerDNS")


class Knot(Server):
    """Knot DNS serving signed zone files as they are (no signing of its own)."""

    def __init__(self, workdir, zones):
        need("knotd")
        self.port, workdir = prepare(workdir)
        conf = workdir / "knot.conf"
        zl = "".join('  - domain: "%s"\n    file: "%s"\n' % (o, p) for o, p in zones.items())
        conf.write_text(
            'server:\n  rundir: "{d}"\n  listen: 127.0.0.1@{port}\n'
            'database:\n  storage: "{d}"\n'
            'log:\n  - target: "{d}/knot.log"\n    any: info\n'
            'template:\n  - id: default\n    storage: "{d}"\n    zonefile-sync: -1\n'
            '    zonefile-load: whole\n    journal-content: none\n'
            'zone:\n{zones}'.format(d=workdir, port=self.port, zones=zl))
        super().__init__(["knotd", "-c", conf], workdir, "knot")
        wait_serving(self, zones, "Knot")


class Named(Server):
    """BIND named serving signed zone files as they are, each checked with
    named-checkzone first (full integrity checks)."""

    def __init__(self, workdir, zones):
        need("named")
        need("named-checkzone")
        self.port, workdir = prepare(workdir)
        for o, p in zones.items():
            # -k ignore: check-names is BIND's host-name policy for A, AAAA and MX owners,
            # not DNS or DNSSEC (the edge-case zone has names such as semi\;colon)
            c = subprocess.run(["named-checkzone", "-k", "ignore", "-i", "full", o, str(p)],
                               capture_output=True, text=True, timeout=60)
            assert c.returncode == 0, "named-checkzone %s: %s%s" % (o, c.stdout, c.stderr)
        conf = workdir / "named.conf"
        zl = "".join('zone "%s" { type primary; file "%s"; };\n' % (o, p)
                     for o, p in zones.items())
        conf.write_text(
            'options {{ directory "{d}"; listen-on port {port} {{ 127.0.0.1; }};\n'
            '  listen-on-v6 {{ none; }}; pid-file "{d}/named.pid";\n'
            '  session-keyfile "{d}/session.key"; recursion no;\n'
            # 9.18 refuses a zone over 100 records in an RRset or types at a name (README,
            # Serving): the edge-case zone has a 500-record RRset
            '  max-records-per-type 0; max-types-per-name 0; check-names primary ignore;\n'
            '  dnssec-validation no; }};\ncontrols {{ }};\n{zones}'.format(
                d=workdir, port=self.port, zones=zl))
        super().__init__(["named", "-g", "-c", conf], workdir, "named")
        wait_serving(self, zones, "named")
