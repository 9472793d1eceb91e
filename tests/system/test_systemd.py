# SPDX-License-Identifier: MIT
"""The units under systemd: `systemd-analyze verify` and the security score on the host,
and a real systemd (PID 1 of an nspawn container) on which README.md's install block is
followed line by line: the container has the runtime packages the block names and
nothing else of ours, `make install` runs here into the container's root (DESTDIR: the
container has no compiler), every other line runs inside it, and the test edits the
configuration where the block says to. Then: socket activation by the first API request,
status text, reload, journal fields, a clean stop, and a sandbox that keeps the service
in its directories. Then README.md's two recipes for reloading the name server (NSD and
Knot, in the container beside dig and curl, which the install block does not name), run
as written: every new serial served, a failing reload seen and retried, a zone created
and deleted through the API served and withdrawn."""
import json
import os
import re
import shlex
import shutil
import time
import uuid
from pathlib import Path

import pytest

from zktest.tools import REPO, BUILD, ldns_verify, need, run
from zktest.zones import SIMPLE

UNITS = REPO / "units"
SANDBOX = REPO.parent / "shared" / "tools" / "systemd-sandbox"
README = REPO / "README.md"


def as_the_operator_edits(conf):
    """The production configuration with the platform's nameservers instead of the
    placeholders and one zone of the configuration, example.com."""
    conf, n = re.subn(r'nameservers = \[ "ns1\.example\.net\.", "ns2\.example\.net\." \];',
                      'nameservers = [ "ns1.platform.example.", "ns2.platform.example." ];', conf)
    assert n == 1, conf
    conf, n = re.subn(r"^zones = \( \);$", 'zones = ( { name = "example.com."; } );', conf,
                      flags=re.M)
    assert n == 1, conf
    return conf


def install_steps():
    """The commands of README.md's install block, in order: comments and blank lines
    dropped, continuation lines joined."""
    m = re.search(r"<!-- install:begin -->\n```sh\n(.*?)```\n<!-- install:end -->",
                  README.read_text(), re.S)
    assert m, "README.md: no ```sh block between <!-- install:begin --> and <!-- install:end -->"
    steps, cur = [], ""
    for raw in m.group(1).splitlines():
        line = raw.strip()
        if not cur and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        steps.append(cur + line)
        cur = ""
    return steps


# Not the README's runtime packages: the name servers of its reload recipes, and the
# tools the test looks with (dig, curl on the API socket). They go in with the base root
# as the runtime packages do (the container has no network).
RECIPE_PACKAGES = ["nsd", "knot", "bind9-dnsutils", "curl"]


def recipe_block(server):
    m = re.search(r"<!-- %s-recipe:begin -->\n```sh\n(.*?)```\n<!-- %s-recipe:end -->"
                  % (server, server), README.read_text(), re.S)
    assert m, "README.md: no ```sh block between <!-- %s-recipe:begin --> and end" % server
    return m.group(1)


def recipe_steps(server):
    """The commands of README.md's <server>-recipe block, in order: comments and blank
    lines dropped, a here-document one command with its lines."""
    lines, steps, i = recipe_block(server).splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        doc = re.search(r"<<'(\w+)'", line)
        if doc:
            end = lines.index(doc.group(1), i)
            line, i = "\n".join(lines[i - 1:end + 1]), end + 1
        steps.append(line)
    return steps


def recipe_reload_command(server):
    """The reload_command the block's comment says to set where it runs `editor`."""
    cmds = re.findall(r'^# in publish: reload_command = "([^"]+)";\neditor /etc/zonekeeper/'
                      r'zonekeeper\.conf$', recipe_block(server), re.M)
    assert len(cmds) == 1, recipe_block(server)
    return cmds[0]


def runtime_packages(steps):
    """The packages of the block's one apt-get line."""
    apt = [s for s in steps if s.startswith("apt-get install ")]
    assert len(apt) == 1, steps
    return [w for w in shlex.split(apt[0])[2:] if not w.startswith("-")]


def test_readme_install_block():
    """The block has what the test below relies on: the runtime packages, an install,
    the user and directories made from the installed snippets, the edit, the start."""
    steps = install_steps()
    pkgs = runtime_packages(steps)
    assert {"libldns3", "libconfig9", "libssl3", "libjansson4", "libmicrohttpd12",
            "libsystemd0", "libcurl4"} <= set(pkgs), pkgs
    assert not [p for p in pkgs if p.endswith("-dev")], pkgs
    assert any(s.startswith("make install") for s in steps), steps
    for want in ("systemd-sysusers /usr/lib/sysusers.d/zonekeeper.conf",
                 "systemd-tmpfiles --create /usr/lib/tmpfiles.d/zonekeeper.conf",
                 "editor /etc/zonekeeper/zonekeeper.conf",
                 "systemctl enable --now zonekeeperd.socket zonekeeperd.service"):
        assert want in steps, (want, steps)
    assert steps.index("editor /etc/zonekeeper/zonekeeper.conf") < steps.index(
        "systemctl enable --now zonekeeperd.socket zonekeeperd.service")


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
        self.after_edit = []

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

    def readme_step(self, line):
        """One line of the README's block: `make` here, into the container's root (the
        build under test, DESTDIR), anything else inside the container."""
        if line.startswith("make "):
            # the build under test as it is (-o: not rebuilt)
            args = shlex.split(line)
            p = run([args[0], "-s", "-C", REPO, "-o", BUILD / "zonekeeper", "-o",
                     BUILD / "zonekeeperd", *args[1:], "B=%s" % BUILD,
                     "DESTDIR=%s" % self.root], timeout=300)
        else:
            p = self.sh(line, check=False)
        assert p.returncode == 0, "README install step failed: %s\n%s%s" % (
            line, p.stdout, p.stderr)
        return p


@pytest.fixture(scope="module")
def sandbox():
    if os.geteuid() != 0:
        pytest.skip("the systemd sandbox needs root (CI runs as root): SKIPPED, not run")
    if not SANDBOX.exists():
        pytest.skip("%s is missing: SKIPPED, not run" % SANDBOX)
    for t in ("systemd-nspawn", "debootstrap", "nsenter"):
        need(t)
    steps = install_steps()
    edit = [i for i, s in enumerate(steps) if s.startswith("editor ")]
    assert len(edit) == 1, steps
    sb = Sandbox()
    try:
        # the README's runtime packages and nothing else of ours (the container has no
        # network: they go in with the base root, and the README's apt-get line then finds
        # them), and the name servers and tools of the reload recipes' test
        p = sb.cmd("boot", "--packages", ",".join(runtime_packages(steps) + RECIPE_PACKAGES),
                   "--max-seconds", "900", check=False, timeout=900)
        if p.returncode != 0:
            # the sandbox tool can report "offline" while PID 1 is still coming up (its
            # bus not there yet): wait for the boot to finish ourselves, bounded
            st = sb.sh("for i in $(seq 120); do s=$(systemctl is-system-running 2>/dev/null); "
                       "case $s in running|degraded) echo $s; exit 0;; esac; sleep 0.5; done; "
                       "echo $s; exit 1", check=False)
            assert st.returncode == 0, "the container did not boot:\n%s%s%s" % (
                p.stdout, p.stderr, st.stdout)
        sb.booted = True
        for line in steps[:edit[0]]:
            sb.readme_step(line)
        sb.after_edit = steps[edit[0] + 1:]
        yield sb
    finally:
        sb.cmd("stop", check=False, timeout=120)


@pytest.mark.slow  # runs once, against the plain build (the container has no ASan runtime)
def test_under_real_systemd(sandbox, tmp_path):
    sb = sandbox
    # the installed configuration, edited as the README says: the platform's nameservers
    # instead of the placeholders, and a zone with its unsigned file
    conf_file = sb.root / "etc/zonekeeper/zonekeeper.conf"
    conf = conf_file.read_text()
    assert 'state_dir  = "/var/lib/zonekeeper";' in conf, conf
    conf = as_the_operator_edits(conf)
    # a remote NOTIFY target (TEST-NET): the unit's sandbox must let it out
    conf, n = re.subn(r'# notify = \[ "127\.0\.0\.1" \];', 'notify = [ "192.0.2.53" ];', conf)
    assert n == 1, conf
    conf_file.write_text(conf)
    (tmp_path / "example.com.zone").write_text(SIMPLE.format(origin="example.com."))
    (tmp_path / "secret").write_text("not for the signer\n")
    sb.cmd("cp", tmp_path / "secret", "/home/someone/secret")
    sb.cmd("cp", tmp_path / "example.com.zone", "/var/lib/zonekeeper/unsigned/example.com.zone")
    sb.sh("chown -R zonekeeper:zonekeeper /var/lib/zonekeeper/unsigned && "
          "chmod 0644 /home/someone/secret")

    # the rest of the README's block: check, enable and start, status
    out = [sb.readme_step(line).stdout for line in sb.after_edit]
    assert "ok, 1 zone" in "".join(out), out
    assert "ok on /run/zonekeeper/api.sock, 1 zone" in out[-1], out
    enabled = sb.sh("systemctl is-enabled zonekeeperd.socket zonekeeperd.service").stdout.split()
    assert enabled == ["enabled", "enabled"], enabled

    # socket activation: with the service stopped the socket listens, and the first
    # request starts the service
    sb.sh("systemctl stop zonekeeperd.service")
    assert sb.sh("systemctl is-active zonekeeperd.socket").stdout.strip() == "active"
    assert sb.sh("systemctl is-active zonekeeperd.service", check=False).stdout.strip() != "active"
    p = sb.sh("zonekeeper status")
    assert "zonekeeperd: ok" in p.stdout, p.stdout
    sb.sh("for i in $(seq 300); do [ \"$(systemctl show -P SubState zonekeeperd)\" = running ] "
          "&& exit 0; sleep 0.1; done; systemctl status --no-pager zonekeeperd; exit 1")
    status = sb.sh("systemctl status --no-pager zonekeeperd").stdout
    assert "active (running)" in status and "zone" in status, status
    # ready at once; the status line counts the zones as they load, then says all is well
    sb.sh("for i in $(seq 300); do systemctl show -P StatusText zonekeeperd | "
          "grep -q '1 zone: 1 ok, 0 failing' && exit 0; sleep 0.1; done; "
          "systemctl show -P StatusText zonekeeperd; exit 1")
    sb.sh("for i in $(seq 300); do [ -s /var/lib/zonekeeper/signed/example.com.zone ] && exit 0; "
          "sleep 0.1; done; exit 1")
    signed = tmp_path / "signed.zone"
    shutil.copy(sb.root / "var/lib/zonekeeper/signed/example.com.zone", signed)
    assert ldns_verify(signed).returncode == 0
    assert re.search(r"^example\.com\.\s+\d+\s+IN\s+NS\s+ns2\.platform\.example\.$",
                     signed.read_text(), re.M), signed.read_text()[:2000]
    # the NOTIFY to the remote address was tried, and not refused by the sandbox (no
    # answer comes from TEST-NET, so it is retried: 2 s later a failure is logged)
    sb.sh("for i in $(seq 200); do journalctl -u zonekeeperd --no-pager | "
          "grep -q 'NOTIFY to 192.0.2.53' && exit 0; sleep 0.1; done; exit 1")
    tries = sb.sh("journalctl -u zonekeeperd --no-pager | grep 'NOTIFY to 192.0.2.53'").stdout
    assert "Operation not permitted" not in tries, tries
    # an API write goes into the input file (the write-back, 5 s after the last write),
    # which keeps its owner and mode under the unit's sandbox
    sb.sh("zonekeeper record add example.com. fromapi A 192.0.2.77 --wait")
    sb.sh("for i in $(seq 300); do grep -q '^fromapi' "
          "/var/lib/zonekeeper/unsigned/example.com.zone && exit 0; sleep 0.1; done; "
          "journalctl -u zonekeeperd --no-pager | tail -20; exit 1")
    assert sb.sh("stat -c %U:%G:%a /var/lib/zonekeeper/unsigned/example.com.zone"
                 ).stdout.split() == ["zonekeeper:zonekeeper:644"]
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
    p = sb.sh("zonekeeper zone show example.org.")
    assert "example.org." in p.stdout, p.stdout
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


def test_readme_reload_recipes():
    """Each recipe: the server's zone file for zonekeeper, a drop-in for zonekeeperd, the
    reload_command to set, and a zone created and deleted through the API."""
    for server, group in (("nsd", "nsd"), ("knot", "knot")):
        steps = recipe_steps(server)
        assert "systemctl restart zonekeeperd" in steps, steps
        assert "editor /etc/zonekeeper/zonekeeper.conf" in steps, steps
        assert steps.index("editor /etc/zonekeeper/zonekeeper.conf") < steps.index(
            "systemctl restart zonekeeperd")
        dropin = [s for s in steps if "zonekeeperd.service.d/%s.conf" % server in s]
        assert len(dropin) == 1 and "SupplementaryGroups=%s\n" % group in dropin[0], steps
        assert "/var/lib/zonekeeper/signed" in recipe_block(server)
        assert ["zonekeeper zone add example.net.", "zonekeeper zone delete example.net."] == [
            s for s in steps if s.startswith("zonekeeper zone ")], steps
        assert "%z" in recipe_reload_command(server)


class Recipe:
    """README.md's block for one server, run step by step inside the container; its
    `editor` line sets the reload_command the block names."""

    def __init__(self, sb, server):
        self.sb, self.server, self.steps = sb, server, recipe_steps(server)
        self.command = recipe_reload_command(server)

    def edit(self):
        conf_file = self.sb.root / "etc/zonekeeper/zonekeeper.conf"
        conf, n = re.subn(r'^\s*#?\s*reload_command = "[^"]*";$',
                          '  reload_command = "%s";' % self.command, conf_file.read_text(),
                          flags=re.M)
        assert n == 1, conf
        conf_file.write_text(conf)

    def run_through(self, last=None):
        """The steps up to the first that starts with `last` (all that are left: None)."""
        while self.steps:
            step = self.steps.pop(0)
            if step.startswith("editor "):
                self.edit()
            else:
                p = self.sb.sh(step, check=False)
                assert p.returncode == 0, "README %s recipe step failed: %s\n%s%s" % (
                    self.server, step, p.stdout, p.stderr)
            if last and step.startswith(last):
                return
        assert last is None, "README %s recipe: no step %r" % (self.server, last)


def wait_for(what, probe, timeout=30.0):
    """probe() until it returns something true, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        v = probe()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.2)


@pytest.mark.slow
def test_reload_recipes_under_real_systemd(sandbox, tmp_path):
    """README.md's recipes, NSD then Knot, with the unit as shipped and only the drop-ins
    they add: each new serial served, a failing reload seen and retried, a zone created
    and deleted through the API served and withdrawn."""
    sb = sandbox

    def zone(name):
        p = sb.sh("zonekeeper zone show %s --json" % name, check=False)
        return json.loads(p.stdout)["zone"] if p.returncode == 0 else None

    def published(name, after=0):
        """The zone's serial once it is ok and past `after`."""
        def probe():
            z = zone(name)
            return z and z["state"] == "ok" and (z["serial"] or 0) > after and z["serial"]
        return wait_for("%s published past %d" % (name, after), probe)

    def served(name, serial, port):
        def probe():
            out = sb.sh("dig +short +norec -p %d @127.0.0.1 %s SOA" % (port, name),
                        check=False).stdout.split()
            return len(out) > 2 and out[2] == str(serial)
        wait_for("serial %d of %s on port %d" % (serial, name, port), probe)

    def withdrawn(name, port):
        wait_for("%s refused on port %d" % (name, port), lambda: "status: REFUSED" in sb.sh(
            "dig +norec -p %d @127.0.0.1 %s SOA" % (port, name), check=False).stdout)

    def edit_input(line):
        sb.sh("printf '%s\\n' >> /var/lib/zonekeeper/unsigned/example.com.zone" % line)

    def journal():
        return sb.sh("journalctl -u zonekeeperd --no-pager -o cat").stdout

    def unit(prop):
        return sb.sh("systemctl show -P %s zonekeeperd" % prop).stdout.strip()

    # zonekeeper as the install block leaves it, with one zone of the configuration
    conf = as_the_operator_edits(
        (sb.root / "usr/share/doc/zonekeeper/examples/zonekeeper.conf.production").read_text())
    (sb.root / "etc/zonekeeper/zonekeeper.conf").write_text(conf)
    (tmp_path / "example.com.zone").write_text(SIMPLE.format(origin="example.com."))
    sb.cmd("cp", tmp_path / "example.com.zone", "/var/lib/zonekeeper/unsigned/example.com.zone")
    sb.sh("chown zonekeeper:zonekeeper /var/lib/zonekeeper/unsigned/example.com.zone")

    # NSD, on port 53
    nsd = Recipe(sb, "nsd")
    nsd.run_through("systemctl restart zonekeeperd")
    # the unit as shipped, with what the drop-in adds
    assert unit("SupplementaryGroups") == "nsd"
    families = unit("RestrictAddressFamilies").split()
    assert sorted(families) == ["AF_INET", "AF_INET6", "AF_NETLINK", "AF_UNIX"], families
    assert (unit("User"), unit("PrivateUsers"), unit("ProtectSystem"),
            unit("CapabilityBoundingSet")) == ("zonekeeper", "yes", "strict", ""), unit("User")
    serial = published("example.com.")
    served("example.com", serial, 53)
    # an edit of the input file: the new serial is served, signed
    edit_input("recipe1 IN A 192.0.2.101")
    serial = published("example.com.", serial)
    served("example.com", serial, 53)
    answer = sb.sh("dig +dnssec +norec @127.0.0.1 recipe1.example.com A").stdout
    assert "192.0.2.101" in answer and re.search(r"\sRRSIG\s+A 13 ", answer), answer
    hook = zone("example.com.")["hooks"]["reload"]
    assert hook["failures"] == 0 and hook["last_error"] is None and hook["last_success"], hook
    assert "reload command '%s' succeeded" % nsd.command in journal()

    # a zone created through the API, and a record write to it
    nsd.run_through("zonekeeper zone add example.net.")
    net = published("example.net.")
    served("example.net", net, 53)
    sb.sh("zonekeeper record add example.net. www A 192.0.2.102")
    net = published("example.net.", net)
    served("example.net", net, 53)
    assert sb.sh("dig +short @127.0.0.1 www.example.net A").stdout.split() == ["192.0.2.102"]

    # NSD stopped: the reload fails, shows in the zone's status, the journal and /metrics
    sb.sh("systemctl stop nsd")
    sb.sh("zonekeeper record add example.com. down A 192.0.2.103")
    serial = published("example.com.", serial)
    hook = wait_for("the reload failing", lambda: (lambda h: h["failures"] >= 1 and h)(
        zone("example.com.")["hooks"]["reload"]))
    assert "'%s' exited with status 1" % nsd.command in hook["last_error"], hook
    assert hook["retry_at"] and hook["failures_total"] >= 1, hook
    log = journal()
    assert "connect (/run/nsd/nsd.ctl)" in log, log[-3000:]
    assert re.search(r"reload command '%s' exited with status 1; retrying at \S+ \(failure 1 "
                     r"in a row\)" % re.escape(nsd.command), log), log[-3000:]
    metrics = sb.sh("curl -sS --unix-socket /run/zonekeeper/api.sock http://localhost/metrics"
                    ).stdout
    m = re.search(r'^zonekeeper_hook_failures_total\{zone="example\.com\.",hook="reload"\} '
                  r'(\d+)$', metrics, re.M)
    assert m and int(m.group(1)) >= 1, metrics
    assert re.search(r'^zonekeeper_hooks_failing\{hook="reload"\} 1$', metrics, re.M), metrics
    # started again: the retry succeeds, the latest serial is served
    sb.sh("systemctl start nsd")
    wait_for("the retry to succeed", lambda: (lambda h: h["failures"] == 0 and h)(
        zone("example.com.")["hooks"]["reload"]), timeout=60)
    hook = zone("example.com.")["hooks"]["reload"]
    assert hook["last_error"] is None and hook["failures_total"] >= 1, hook
    assert "the reload command succeeded after" in journal()
    served("example.com", serial, 53)
    served("example.net", net, 53)

    # the zone deleted through the API: withdrawn
    nsd.run_through()
    withdrawn("example.net", 53)
    assert zone("example.net.") is None

    # Knot, on port 5300 (Debian's knot.conf listens nowhere), without NSD's drop-in:
    # knotc needs neither netlink nor NSD's group
    sb.sh("rm /etc/systemd/system/zonekeeperd.service.d/nsd.conf && "
          "sed -i 's/^#    listen: .*/    listen: 127.0.0.1@5300/' /etc/knot/knot.conf && "
          "grep -q '^    listen: 127.0.0.1@5300$' /etc/knot/knot.conf")
    knot = Recipe(sb, "knot")
    knot.run_through("systemctl restart zonekeeperd")
    assert unit("SupplementaryGroups") == "knot"
    assert "AF_NETLINK" not in unit("RestrictAddressFamilies")
    serial = published("example.com.")
    served("example.com", serial, 5300)
    edit_input("recipe2 IN A 192.0.2.104")
    serial = published("example.com.", serial)
    served("example.com", serial, 5300)
    assert sb.sh("dig +short -p 5300 @127.0.0.1 recipe2.example.com A").stdout.split() == [
        "192.0.2.104"]
    assert "reload command '%s' succeeded" % knot.command in journal()
    knot.run_through("zonekeeper zone add example.net.")
    net = published("example.net.")
    served("example.net", net, 5300)
    knot.run_through()
    withdrawn("example.net", 5300)
