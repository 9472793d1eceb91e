# SPDX-License-Identifier: MIT
"""The units under systemd: `systemd-analyze verify` and the security score on the host,
and a real systemd (PID 1 of an nspawn container, ../shared/tools/systemd-sandbox) running
the installed build: socket activation by the first API request, status text, reload,
journal fields, a clean stop, and a sandbox that keeps the service in its directories."""
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from zktest.tools import REPO, ZONEKEEPER, BUILD, ldns_verify, need, run
from zktest.zones import SIMPLE

UNITS = REPO / "units"
SANDBOX = REPO.parent / "shared" / "tools" / "systemd-sandbox"
PACKAGES = "libldns3,libconfig9,libjansson4,libmicrohttpd12,libssl3,curl,util-linux"


def test_units_verify(tmp_path):
    need("systemd-analyze")
    # verify checks ExecStart= paths on this host: point them at the build
    svc = (UNITS / "zonekeeperd.service").read_text().replace(
        "/usr/sbin/zonekeeperd", str(BUILD / "zonekeeperd")).replace(
        "/usr/bin/zonekeeper ", str(BUILD / "zonekeeper") + " ")
    (tmp_path / "zonekeeperd.service").write_text(svc)
    shutil.copy(UNITS / "zonekeeperd.socket", tmp_path / "zonekeeperd.socket")
    p = run(["systemd-analyze", "verify", "--man=no", tmp_path / "zonekeeperd.socket",
             tmp_path / "zonekeeperd.service"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert "zonekeeperd" not in p.stderr, p.stderr  # no warning about our units


def test_security_score_at_most_2():
    need("systemd-analyze")
    p = run(["systemd-analyze", "security", "--offline=yes", "--threshold=20",
             UNITS / "zonekeeperd.service"])
    m = re.search(r"Overall exposure level for zonekeeperd.service: (\d+\.\d+)", p.stdout)
    assert m, p.stdout + p.stderr
    assert float(m.group(1)) <= 2.0 and p.returncode == 0, p.stdout[-2000:]


class Sandbox:
    def __init__(self):
        self.name = "zk" + uuid.uuid4().hex[:8]
        self.booted = False

    def cmd(self, *args, check=True, timeout=300):
        p = run([SANDBOX, args[0], "-n", self.name, *args[1:]], timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("systemd-sandbox %s failed:\n%s%s" % (args, p.stdout, p.stderr))
        return p

    def sh(self, code, check=True):
        return self.cmd("sh", code, check=check)

    @property
    def root(self):
        base = Path(os.environ.get("SYSTEMD_SANDBOX_DIR", "/tmp/systemd-sandbox"))
        return base / ("run-" + self.name) / "root"


@pytest.fixture(scope="module")
def sandbox():
    if os.geteuid() != 0:
        pytest.skip("the systemd sandbox needs root (CI runs as root): SKIPPED, not run")
    if not SANDBOX.exists():
        pytest.skip("%s is missing: SKIPPED, not run" % SANDBOX)
    for t in ("systemd-nspawn", "debootstrap", "nsenter"):
        need(t)
    sb = Sandbox()
    try:
        p = sb.cmd("boot", "--packages", PACKAGES, "--max-seconds", "900", check=False,
                   timeout=900)
        if p.returncode != 0:
            # the sandbox tool can report "offline" while PID 1 is still coming up (its
            # bus not there yet): wait for the boot to finish ourselves, bounded
            st = sb.sh("for i in $(seq 120); do s=$(systemctl is-system-running 2>/dev/null); "
                       "case $s in running|degraded) echo $s; exit 0;; esac; sleep 0.5; done; "
                       "echo $s; exit 1", check=False)
            assert st.returncode == 0, "the container did not boot:\n%s%s%s" % (
                p.stdout, p.stderr, st.stdout)
        sb.booted = True
        # the build goes in the way a package would put it
        p = run(["make", "-s", "-C", REPO, "install", "B=%s" % BUILD, "PREFIX=/usr",
                 "SYSCONFDIR=/etc", "DESTDIR=%s" % sb.root], timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
        yield sb
    finally:
        sb.cmd("stop", check=False, timeout=120)


@pytest.mark.slow  # runs once, against the plain build (the container has no ASan runtime)
def test_under_real_systemd(sandbox, tmp_path):
    sb = sandbox
    conf = ('paths = { state_dir = "/var/lib/zonekeeper"; };\n'
            'policies = ( { name = "default"; nameservers = [ "ns1.example.net." ]; } );\n'
            'zones = ( { name = "example.com."; } );\n')
    (tmp_path / "zonekeeper.conf").write_text(conf)
    (tmp_path / "example.com.zone").write_text(SIMPLE.format(origin="example.com."))
    (tmp_path / "secret").write_text("not for the signer\n")
    sb.cmd("cp", tmp_path / "zonekeeper.conf", "/etc/zonekeeper/zonekeeper.conf")
    sb.cmd("cp", tmp_path / "secret", "/home/someone/secret")
    sb.sh("systemd-sysusers && systemd-tmpfiles --create && systemctl daemon-reload")
    sb.cmd("cp", tmp_path / "example.com.zone", "/var/lib/zonekeeper/unsigned/example.com.zone")
    sb.sh("chown -R zonekeeper:zonekeeper /var/lib/zonekeeper/unsigned && "
          "chmod 0644 /home/someone/secret")

    # socket activation: the socket listens, the service starts on the first request
    sb.sh("systemctl start zonekeeperd.socket")
    assert sb.sh("systemctl is-active zonekeeperd.service", check=False).stdout.strip() != "active"
    p = sb.sh("curl -sS --max-time 60 --unix-socket /run/zonekeeper/api.sock "
              "http://zonekeeper/v1/health")
    assert '"ok"' in p.stdout
    sb.sh("for i in $(seq 300); do [ \"$(systemctl show -P SubState zonekeeperd)\" = running ] "
          "&& exit 0; sleep 0.1; done; systemctl status --no-pager zonekeeperd; exit 1")
    status = sb.sh("systemctl status --no-pager zonekeeperd").stdout
    assert "active (running)" in status and "zone" in status, status
    text = sb.sh("systemctl show -P StatusText zonekeeperd").stdout
    assert re.search(r"1 zone: 1 ok, 0 failing", text), text
    sb.sh("for i in $(seq 300); do [ -s /var/lib/zonekeeper/signed/example.com.zone ] && exit 0; "
          "sleep 0.1; done; exit 1")
    signed = tmp_path / "signed.zone"
    shutil.copy(sb.root / "var/lib/zonekeeper/signed/example.com.zone", signed)
    assert ldns_verify(signed).returncode == 0
    owner = sb.sh("stat -c %U:%a /var/lib/zonekeeper/zones/example.com/keys "
                  "/var/lib/zonekeeper/signed/example.com.zone").stdout.split()
    assert owner == ["zonekeeper:700", "zonekeeper:644"], owner

    # reload: returns once applied (a zone added is there at once), the service stays up
    sb.cmd("cp", tmp_path / "example.com.zone", "/var/lib/zonekeeper/unsigned/example.org.zone")
    sb.sh("sed -i 's/zones = ( { name = \"example.com.\"; } );/zones = ( { name = "
          "\"example.com.\"; }, { name = \"example.org.\"; } );/' /etc/zonekeeper/zonekeeper.conf"
          " && sed -i 's/example.com./example.org./g' "
          "/var/lib/zonekeeper/unsigned/example.org.zone && "
          "chown zonekeeper:zonekeeper /var/lib/zonekeeper/unsigned/example.org.zone")
    sb.sh("systemctl reload zonekeeperd && systemctl is-active zonekeeperd")
    p = sb.sh("curl -sS --max-time 20 --unix-socket /run/zonekeeper/api.sock "
              "http://zonekeeper/v1/zones/example.org.")
    assert '"example.org."' in p.stdout, p.stdout
    # a configuration that does not load: the reload fails, the running one stays
    sb.sh("cp /etc/zonekeeper/zonekeeper.conf /etc/zonekeeper/good.conf && "
          "echo 'polices = 1;' >> /etc/zonekeeper/zonekeeper.conf")
    r = sb.sh("systemctl reload zonekeeperd", check=False)
    assert r.returncode != 0, r.stdout + r.stderr
    assert sb.sh("systemctl is-active zonekeeperd").stdout.strip() == "active"
    sb.sh("mv /etc/zonekeeper/good.conf /etc/zonekeeper/zonekeeper.conf")

    # structured journal fields
    j = sb.sh("journalctl -u zonekeeperd -o json --no-pager").stdout
    entries = [json.loads(l) for l in j.splitlines() if l.strip()]
    published = [e for e in entries if "published serial" in e.get("MESSAGE", "")]
    assert published and published[0].get("ZONE") == "example.com.", entries[-5:]
    assert published[0].get("SERIAL", "").isdigit()
    assert int(published[0].get("SIGNATURES", "0")) > 0

    # the sandbox: seen from the service's own namespace, as its own user
    pid = sb.sh("systemctl show -P MainPID zonekeeperd").stdout.strip()
    assert sb.sh("ps -o user= -p %s" % pid).stdout.strip() == "zonekeeper"
    enter = "nsenter -t %s -m -S $(id -u zonekeeper) -G $(id -g zonekeeper) " % pid
    # home directories are not there for it; /etc is read-only; no other user's files
    assert sb.sh(enter + "cat /home/someone/secret", check=False).returncode != 0
    # ProtectSystem=strict: read-only even for root inside its mount namespace
    r = sb.sh("nsenter -t %s -m touch /etc/zonekeeper/x /usr/probe" % pid, check=False)
    assert r.returncode != 0 and "Read-only" in r.stdout + r.stderr, r.stdout + r.stderr
    assert sb.sh(enter + "cat /etc/shadow", check=False).returncode != 0
    assert sb.sh(enter + "touch /var/lib/zonekeeper/signed/probe && rm "
                 "/var/lib/zonekeeper/signed/probe", check=False).returncode == 0
    assert sb.sh("systemctl show -P NoNewPrivileges zonekeeperd").stdout.strip() == "yes"

    # a clean stop
    sb.sh("systemctl stop zonekeeperd.service zonekeeperd.socket")
    assert sb.sh("systemctl show -P Result zonekeeperd").stdout.strip() == "success"
    stopped = sb.sh("journalctl -u zonekeeperd --no-pager").stdout
    assert "stopped" in stopped

    # online security check inside, with everything loaded
    sb.cmd("cp", UNITS / "zonekeeperd.service", "/root/offline-check/")
    p = sb.sh("systemd-analyze security --threshold=20 zonekeeperd.service", check=False)
    assert p.returncode == 0, p.stdout[-2000:]
