# SPDX-License-Identifier: MIT
"""Real DNS servers on loopback for the tests: NSD serving signed zones, Unbound validating
through it with our DS as trust anchor. Ports are picked at run time; every server is
stopped (by the PID we started) when the test ends."""
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


class Nsd(Server):
    """NSD serving zone files: {origin: path}."""

    def __init__(self, workdir, zones):
        need("nsd")
        self.port = free_port()
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
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
        first = next(iter(zones))
        r = query(self.port, first, "SOA", dnssec=False, tries=50)
        assert r.rcode() == dns.rcode.NOERROR, "NSD does not serve %s: %s" % (first, r)


class Unbound(Server):
    """A validating resolver: stub zones to NSD, trust anchors given as DS lines."""

    def __init__(self, workdir, stubs, anchors):
        need("unbound")
        self.port = free_port()
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
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
