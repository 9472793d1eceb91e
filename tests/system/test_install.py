# SPDX-License-Identifier: MIT
"""`make install` into a DESTDIR: the files it installs and nothing else, the production
configuration (it loads and passes --check-config with the installed binary, its paths
are those of the tmpfiles.d snippet and the unit, an operator's file is never replaced),
the commands it runs without DESTDIR, `make uninstall`; zonekeeper.conf(5) renders
without a warning and documents every key the parser accepts (policy/config.c's tables)
and no other; README.md's runtime packages cover the libraries the programs link."""
import os
import re
import shlex
import shutil
import stat
from pathlib import Path

import pytest

from zktest.tools import REPO, BUILD, need, run

CONF = "etc/zonekeeper/zonekeeper.conf"
MAN5 = REPO / "man" / "zonekeeper.conf.5"


def make(*args, env=None):
    # the build under test as it is (-o: never rebuilt here, whatever flags made it)
    p = run(["make", "-s", "-C", REPO, "-o", BUILD / "zonekeeper", "-o", BUILD / "zonekeeperd",
             *args, "B=%s" % BUILD], timeout=600, env=env)
    assert p.returncode == 0, "make %s failed:\n%s%s" % (" ".join(args), p.stdout, p.stderr)
    return p


def install(dest, *args, env=None):
    return make("install", "PREFIX=/usr", "DESTDIR=%s" % dest, *args, env=env)


def tree(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if not p.is_dir())


EXPECTED = [
    CONF,
    "usr/bin/zonekeeper",
    "usr/lib/systemd/system/zonekeeperd.service",
    "usr/lib/systemd/system/zonekeeperd.socket",
    "usr/lib/sysusers.d/zonekeeper.conf",
    "usr/lib/tmpfiles.d/zonekeeper.conf",
    "usr/sbin/zonekeeperd",
    "usr/share/doc/zonekeeper/README.md",
    "usr/share/doc/zonekeeper/examples/zonekeeper.conf",
    "usr/share/doc/zonekeeper/examples/zonekeeper.conf.production",
    "usr/share/man/man1/zonekeeper.1",
    "usr/share/man/man5/zonekeeper.conf.5",
    "usr/share/man/man8/zonekeeperd.8",
] + ["usr/share/doc/zonekeeper/" + p.name for p in (REPO / "doc").glob("*.md")]


@pytest.fixture(scope="module")
def dest(tmp_path_factory):
    d = tmp_path_factory.mktemp("destdir")
    p = install(d)
    # with DESTDIR, nothing is done to this host: the commands are named for the target
    assert "on the target: systemd-sysusers /usr/lib/sysusers.d/zonekeeper.conf" in p.stdout
    assert "on the target: systemd-tmpfiles --create /usr/lib/tmpfiles.d/zonekeeper.conf" \
        in p.stdout
    return d


def test_installed_files(dest):
    assert tree(dest) == sorted(EXPECTED)
    for f in EXPECTED:
        mode = stat.S_IMODE((dest / f).stat().st_mode)
        assert mode == (0o755 if "/bin/" in f or "/sbin/" in f else 0o644), (f, oct(mode))
    svc = (dest / "usr/lib/systemd/system/zonekeeperd.service").read_text()
    assert "ExecStart=/usr/sbin/zonekeeperd --config /etc/zonekeeper/zonekeeper.conf" in svc
    assert (dest / CONF).read_text() == (REPO / "examples/zonekeeper.conf.production").read_text()


def test_unit_paths_follow_prefix(tmp_path):
    install(tmp_path, "PREFIX=/opt/zk", "SYSCONFDIR=/opt/etc")
    svc = (tmp_path / "opt/zk/lib/systemd/system/zonekeeperd.service").read_text()
    assert "ExecStart=/opt/zk/sbin/zonekeeperd --config /opt/etc/zonekeeper/zonekeeper.conf" in svc
    assert "ExecReload=/opt/zk/bin/zonekeeper reload" in svc
    assert (tmp_path / "opt/etc/zonekeeper/zonekeeper.conf").is_file()
    assert (tmp_path / "opt/zk/share/man/man5/zonekeeper.conf.5").is_file()


def state_dirs(dest):
    """The directories of the tmpfiles.d snippet, and the unit's StateDirectory=."""
    dirs = [line.split()[1] for line in
            (dest / "usr/lib/tmpfiles.d/zonekeeper.conf").read_text().splitlines()
            if line.startswith("d ")]
    svc = (dest / "usr/lib/systemd/system/zonekeeperd.service").read_text()
    state = re.search(r"^StateDirectory=(\S+)$", svc, re.M).group(1)
    return dirs, "/var/lib/" + state


def conf_paths(text):
    return dict(re.findall(r'^\s*(state_dir|input_dir|output_dir)\s*=\s*"([^"]+)";', text, re.M))


def test_production_config(dest, tmp_path):
    conf = (dest / CONF).read_text()
    paths = conf_paths(conf)
    dirs, state = state_dirs(dest)
    # absolute, and where systemd makes them
    assert paths == {"state_dir": state, "input_dir": state + "/unsigned",
                     "output_dir": state + "/signed"}, paths
    assert sorted(paths.values()) == sorted(dirs), (paths, dirs)
    assert re.search(r"^zones = \( \);$", conf, re.M), "no zones configured"
    assert "PLACEHOLDER" in conf
    daemon, cli = dest / "usr/sbin/zonekeeperd", dest / "usr/bin/zonekeeper"
    if os.geteuid() == 0:
        # as installed: root may create /var/lib/zonekeeper (nothing is created)
        p = run([daemon, "--check-config", "--config", dest / CONF])
        assert p.returncode == 0 and "ok, 0 zones" in p.stdout, p.stdout + p.stderr
    # the same file with the state under a directory of the test (any user)
    copy = tmp_path / "zonekeeper.conf"
    copy.write_text(conf.replace('"/var/lib/zonekeeper', '"%s/var/lib/zonekeeper' % tmp_path))
    p = run([daemon, "--check-config", "--config", copy])
    assert p.returncode == 0 and "ok, 0 zones" in p.stdout, p.stdout + p.stderr
    assert p.stderr == "", p.stderr
    p = run([cli, "check-config", "--config", copy])
    assert p.returncode == 0 and "ok, 1 policy, 0 zones" in p.stdout, p.stdout + p.stderr


def test_operator_config_kept_and_uninstall(tmp_path):
    install(tmp_path)
    conf = tmp_path / CONF
    mine = conf.read_text().replace("zones = ( );", 'zones = ( { name = "example.com."; } );')
    conf.write_text(mine)
    p = install(tmp_path)
    assert conf.read_text() == mine
    assert "kept %s" % conf in p.stdout, p.stdout
    make("uninstall", "PREFIX=/usr", "DESTDIR=%s" % tmp_path)
    assert tree(tmp_path) == [CONF]
    assert conf.read_text() == mine
    assert not (tmp_path / "usr/share/doc/zonekeeper").exists()


def test_without_destdir_creates_user_and_directories(tmp_path):
    """DESTDIR empty: systemd-sysusers and systemd-tmpfiles on the installed snippets
    (stand-ins here, which record their arguments; prefix and sysconfdir in the test's
    directory, so this host is not touched)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    for tool in ("systemd-sysusers", "systemd-tmpfiles", "systemctl"):
        (bin_dir / tool).write_text('#!/bin/sh\necho "$(basename "$0") $*" >> %s\n' % log)
        (bin_dir / tool).chmod(0o755)
    prefix, etc = tmp_path / "usr", tmp_path / "etc"
    env = {"PATH": "%s:%s" % (bin_dir, os.environ["PATH"])}
    p = make("install", "PREFIX=%s" % prefix, "SYSCONFDIR=%s" % etc, "DESTDIR=", env=env)
    assert (etc / "zonekeeper/zonekeeper.conf").is_file()
    if os.geteuid() != 0:
        # not root: nothing run, the commands named
        assert not log.exists(), log.read_text()
        assert "as root: systemd-sysusers %s/lib/sysusers.d/zonekeeper.conf" % prefix in p.stdout
        return
    calls = log.read_text().splitlines()
    assert calls[:2] == ["systemd-sysusers %s/lib/sysusers.d/zonekeeper.conf" % prefix,
                         "systemd-tmpfiles --create %s/lib/tmpfiles.d/zonekeeper.conf" % prefix], \
        calls
    # systemctl daemon-reload only where systemd runs
    assert calls[2:] == (["systemctl daemon-reload"] if os.path.isdir("/run/systemd/system")
                         else []), calls


# ---------------------------------------------------------------------------- the manual

def test_manual_pages_render_without_warnings(dest):
    need("groff")
    for page in sorted((dest / "usr/share/man").rglob("*.[0-9]")):
        p = run(["groff", "-man", "-Tutf8", "-ww", "-z", page], env={"LC_ALL": "C.UTF-8"})
        assert p.returncode == 0 and p.stderr == "", (page.name, p.stderr)
    if shutil.which("man"):
        p = run(["man", "-l", dest / "usr/share/man/man5/zonekeeper.conf.5"],
                env={"MANWIDTH": "80", "MAN_KEEP_STDERR": "1", "LC_ALL": "C.UTF-8"})
        assert p.returncode == 0 and "ZONEKEEPER.CONF(5)" in p.stdout, p.stderr
        assert "archive_days" in p.stdout


# the tables of policy/config.c, and the section of zonekeeper.conf(5) of each; None: the
# top level, whose keys are sections themselves
TABLE_SECTIONS = {
    "root_fields": None,
    "paths_fields": "paths",
    "api_fields": "api",
    "publish_fields": "publish",
    "catalog_fields": "catalog",
    "policy_fields": "policies",
    "soa_fields": "soa",
    "zone_fields": "zones",
}


def parser_tables():
    """{table: [key, ...]} from the `static const struct field X_fields[]` tables."""
    src = (REPO / "policy" / "config.c").read_text()
    tables = {}
    for m in re.finditer(r"static const struct field (\w+)\[\] = \{(.*?)\n\};", src, re.S):
        tables[m.group(1)] = re.findall(r'\bF_[A-Z]+\(\s*"([a-z0-9_]+)"', m.group(2))
    assert tables and all(tables.values()), tables
    return tables


def manual_keys():
    """{section: {key, ...}}: the .TP entries (.B key) under each .SS of SETTINGS."""
    keys, section, in_settings, lines = {}, None, False, MAN5.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith(".SH"):
            in_settings = line.split(None, 1)[1].strip('"') == "SETTINGS"
            section = None
        elif in_settings and line.startswith(".SS"):
            section = line.split()[1].strip('"')
            keys.setdefault(section, set())
        elif in_settings and section and line == ".TP" and i + 1 < len(lines):
            m = re.match(r"\.B (\w+)$", lines[i + 1])
            assert m, "zonekeeper.conf.5:%d: a .TP entry without .B key" % (i + 2)
            keys[section].add(m.group(1))
    return keys


def test_every_key_documented():
    tables, documented = parser_tables(), manual_keys()
    assert set(tables) == set(TABLE_SECTIONS), (
        "policy/config.c has tables %s: give each a section of man/zonekeeper.conf.5 and "
        "an entry in TABLE_SECTIONS" % sorted(set(tables) ^ set(TABLE_SECTIONS)))
    missing, unknown = [], []
    for table, keys in tables.items():
        section = TABLE_SECTIONS[table]
        if section is None:
            missing += ["%s (a section)" % k for k in keys if k not in documented]
            continue
        have = documented.get(section, set())
        missing += ["%s.%s" % (section, k) for k in keys if k not in have]
        unknown += ["%s.%s" % (section, k) for k in have if k not in keys]
    # every section but soa (a group of a policy) is a top-level key
    unknown += ["%s (a section)" % s for s in documented
                if s != "soa" and s not in tables["root_fields"]]
    assert not missing, "accepted by policy/config.c, not in zonekeeper.conf(5): %s" % missing
    assert not unknown, "in zonekeeper.conf(5), not accepted by policy/config.c: %s" % unknown


def test_manual_example_loads(dest, tmp_path):
    text = MAN5.read_text()
    m = re.search(r"^\.SH EXAMPLE\n.*?^\.RS 4\n(.*?)^\.RE$", text, re.S | re.M)
    assert m, "zonekeeper.conf.5 has no EXAMPLE block"
    example = m.group(1).replace("\\-", "-").replace("/var/lib/zonekeeper",
                                                     "%s/var/lib/zonekeeper" % tmp_path)
    (tmp_path / "example.conf").write_text(example)
    p = run([dest / "usr/bin/zonekeeper", "check-config", "--config", tmp_path / "example.conf"])
    assert p.returncode == 0 and "ok, 1 policy, 2 zones" in p.stdout, p.stdout + p.stderr


# ---------------------------------------------------------------------------- the README

def test_readme_runtime_packages_cover_the_programs():
    """Every library the two programs link comes from a package of README.md's apt-get
    line (the container of test_systemd.py has those and nothing else of ours)."""
    for tool in ("dpkg-query", "readelf"):
        need(tool)
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- install:begin -->(.*?)<!-- install:end -->", readme, re.S).group(1)
    apt = [l for l in block.splitlines() if l.startswith("apt-get install ")]
    assert len(apt) == 1, block
    listed = {w for w in shlex.split(apt[0])[2:] if not w.startswith("-")}
    arch = run(["dpkg", "--print-architecture"], check=True).stdout.strip()
    needed = set()
    for prog in (BUILD / "zonekeeper", BUILD / "zonekeeperd"):
        out = run(["readelf", "-d", prog], check=True).stdout
        needed |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))
    assert needed
    missing = {}
    for soname in sorted(needed):
        if soname.startswith(("libc.so", "libm.so", "ld-linux")):
            continue  # libc6: every Debian has it
        if re.match(r"lib(asan|ubsan)\.so", soname):
            continue  # the sanitizer build's runtimes: not what is installed
        p = run(["dpkg-query", "-S", "*/" + soname], check=True)
        pkgs = set()
        for line in p.stdout.splitlines():
            for pkg in line.split(": ", 1)[0].split(", "):
                name, _, pkg_arch = pkg.partition(":")
                if pkg_arch in ("", arch):
                    pkgs.add(name)
        assert pkgs, (soname, p.stdout)
        if not pkgs & listed:
            missing[soname] = sorted(pkgs)
    assert not missing, "README.md's apt-get line lacks: %s" % missing
