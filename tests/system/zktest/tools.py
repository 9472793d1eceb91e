# SPDX-License-Identifier: MIT
"""The zonekeeper binaries, configurations and zones written for a test, and the three
independent validators (ldns-verify-zone, dnssec-verify, kzonecheck)."""
import hashlib
import os
import shutil
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
BUILD = Path(os.environ.get("ZK_BUILD", REPO / "build"))
ZONEKEEPER = BUILD / "zonekeeper"


def run(args, check=False, timeout=300, env=None, **kw):
    """Run a command, capture its output as text, never hang."""
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env=e, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d)\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(map(str, args)), p.returncode, p.stdout, p.stderr))
    return p


def zk(*args, **kw):
    return run([ZONEKEEPER, *args], **kw)


def need(tool):
    if not shutil.which(tool):
        pytest.skip("%s is not installed (scripts/deps.sh installs it)" % tool)


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


POLICY_DEFAULTS = {
    "algorithm": '"ECDSAP256SHA256"',
    "keys": '"ksk-zsk"',
    "denial": '"nsec3"',
    "serial": '"dateserial"',
    "nameservers": '[ "ns1.example.net.", "ns2.example.net." ]',
    "verify": '"full"',
    "soa": '{ expire = "5d"; }',
}


class Setup:
    """A state/input/output tree and a configuration file for some zones."""

    def __init__(self, root, zones, policy=None, policies=None, extra="", api=True):
        self.root = Path(root)
        # Unix socket names are limited to 108 bytes: fall back to a short directory
        self.api_socket = self.root / "api.sock"
        if len(str(self.api_socket)) > 100:
            self.api_socket = Path(tempfile.mkdtemp(prefix="zkapi-")) / "api.sock"
        if api and "api =" not in extra:
            extra = 'api = { socket = "%s"; };\n%s' % (self.api_socket, extra)
        self.input = self.root / "in"
        self.output = self.root / "out"
        self.state = self.root / "state"
        self.input.mkdir(parents=True, exist_ok=True)
        self.config = self.root / "zonekeeper.conf"
        if policies is None:
            pol = dict(POLICY_DEFAULTS)
            pol.update(policy or {})
            policies = {"default": pol}
        self.write_config(zones, policies, extra)

    def write_config(self, zones, policies, extra=""):
        pols = []
        for name, settings in policies.items():
            body = "".join("    %s = %s;\n" % (k, v) for k, v in settings.items())
            pols.append("  { name = \"%s\";\n%s  }" % (name, body))
        zl = []
        for z in zones:
            if isinstance(z, tuple):
                zl.append('  { name = "%s"; policy = "%s"; }' % z)
            else:
                zl.append('  { name = "%s"; }' % z)
        self.config.write_text(textwrap.dedent("""\
            paths = {{ state_dir = "{s}"; input_dir = "{i}"; output_dir = "{o}"; }};
            policies = (
            {p}
            );
            zones = (
            {z}
            );
            {extra}
            """).format(s=self.state, i=self.input, o=self.output, p=",\n".join(pols),
                        z=",\n".join(zl), extra=extra))

    def input_file(self, zone):
        return self.input / (zone.rstrip(".") + ".zone")

    def output_file(self, zone):
        return self.output / (zone.rstrip(".") + ".zone")

    def key_dir(self, zone):
        return self.state / "zones" / zone.rstrip(".") / "keys"

    def write_zone(self, zone, text):
        self.input_file(zone).write_text(text)

    def sign(self, *extra, check=True, env=None):
        return zk("sign", "--config", self.config, *extra, check=check, env=env)

    def ds(self, zone):
        p = zk("ds", "--config", self.config, "--zone", zone, check=True)
        return [l for l in p.stdout.splitlines() if "\tDS\t" in l]


_FIXTIME = []


def fixtime_lib():
    """tests/tools/fixtime.c built once per session (plain cc: it is preloaded into
    programs that are not ours)."""
    if not _FIXTIME:
        out = Path(tempfile.mkdtemp(prefix="zk-fixtime-")) / "libfixtime.so"
        run(["cc", "-std=gnu11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror",
             "-shared", "-fPIC", "-o", out, REPO / "tests" / "tools" / "fixtime.c"],
            check=True)
        _FIXTIME.append(out)
    return _FIXTIME[0]


def bind_verify_at(path, origin, when, csk=False):
    """dnssec-verify judging the zone as of `when` (seconds since the epoch)."""
    need("dnssec-verify")
    return run(["dnssec-verify", *(["-z"] if csk else []), "-o", origin, path],
               env={"LD_PRELOAD": str(fixtime_lib()), "ZK_FIXTIME": str(int(when))})


def ldns_verify_at(path, when):
    """ldns-verify-zone judging the zone as of `when`."""
    need("ldns-verify-zone")
    t = time.strftime("%Y%m%d%H%M%S", time.gmtime(when))
    return run(["ldns-verify-zone", "-t", t, path])


def ldns_verify(path):
    need("ldns-verify-zone")
    return run(["ldns-verify-zone", path])


def bind_verify(path, origin, csk=False):
    need("dnssec-verify")
    # -z: a CSK has the SEP flag; without -z dnssec-verify wants a non-SEP key signing data
    return run(["dnssec-verify", *(["-z"] if csk else []), "-o", origin, path])


def knot_check(path, origin):
    need("kzonecheck")
    return run(["kzonecheck", "-o", origin, "-d", "on", path])


def assert_valid_everywhere(path, origin, csk=False):
    """The three independent validators, and our own verify, accept the zone."""
    for name, p in (("ldns-verify-zone", ldns_verify(path)),
                    ("dnssec-verify", bind_verify(path, origin, csk)),
                    ("kzonecheck", knot_check(path, origin)),
                    ("zonekeeper verify", zk("verify", "--origin", origin, path))):
        assert p.returncode == 0, "%s rejects %s:\n%s%s" % (name, path, p.stdout, p.stderr)
