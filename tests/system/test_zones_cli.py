# SPDX-License-Identifier: MIT
"""Zones as data from the command line: `zonekeeper zone add|delete|restore` and the paged
`zone list` against a real zonekeeperd (doc/api.md, Zones as data): what each prints, the
exit codes (0 done, 1 failed, 2 usage, 3 refused with `zonekeeper: CODE: message`), and
that a deleted zone comes back from its archive with the same keys."""
import json
import re
from pathlib import Path

import pytest

from zktest.daemon import Daemon, wait_for
from zktest.tools import Setup, zk
from zktest.zones import SIMPLE

CONF = "example.com."   # the zone of the configuration file

ERROR_LINE = re.compile(r"^zonekeeper: ([A-Z_]+): (.+)\n$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

RRSIG = ("mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eK"
         "GQ==")

# what another provider exports: its SOA and a signature go, the data stays
EXPORTED = """\
$ORIGIN {o}
$TTL 3600
@    IN SOA   ns1.example.net. hostmaster 7 7200 3600 1209600 3600
@    IN A     192.0.2.10
www  IN A     192.0.2.11
www  IN RRSIG A 13 3 3600 20300101000000 20200101000000 12345 {o} %s
""" % RRSIG


@pytest.fixture
def daemon(tmp_path):
    s = Setup(tmp_path, [CONF])
    s.write_zone(CONF, SIMPLE.format(origin=CONF))
    d = Daemon(s)
    d.wait_ready()
    d.wait_zone(CONF, lambda z: z["serial"], what="first publication")
    yield s, d
    d.close()


def cli(d, *args, **kw):
    return zk(*args, "--socket", d.api_socket, timeout=120, **kw)


def ok(p):
    assert p.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout,
                                                                      p.stderr)
    return p


def refused(p, code):
    """Exit 3, nothing on stdout, and one error line with `code`; returns the message."""
    assert p.returncode == 3, p
    m = ERROR_LINE.match(p.stderr)
    assert m, "not one error line: %r" % p.stderr
    assert m.group(1) == code, p.stderr
    assert p.stdout == ""
    return m.group(2)


def cells(line):
    return re.split(r"\s{2,}", line.strip())


def block(text, title):
    """The lines after the line `title`, up to the next line that is not part of it."""
    lines = text.splitlines()
    assert title in lines, "no %r in:\n%s" % (title, text)
    out = []
    for l in lines[lines.index(title) + 1:]:
        if not l.strip() or re.match(r"^(published in serial|saved;|no DS|DS records)", l):
            break
        out.append(l)
    return out


def names(d, *args):
    j = json.loads(ok(cli(d, "zone", "list", "--json", *args)).stdout)
    assert j["status"] == "ok" and j["next"] is None, j
    return [z["name"] for z in j["zones"]]


def ds_of(d, zone):
    return sorted(l for l in ok(cli(d, "ds", zone)).stdout.splitlines() if l.strip())


def key_tags(d, zone):
    return sorted(k["tag"] for k in json.loads(ok(cli(d, "keys", zone, "--json")).stdout)["keys"])


# ------------------------------------------------------------------ no daemon needed

@pytest.mark.parametrize("args", [
    ["zone", "add"],
    ["zone", "add", "a.test.", "b.test."],
    ["zone", "add", "a.test.", "--bogus"],
    ["zone", "add", "a.test.", "--force"],
    ["zone", "delete"],
    ["zone", "delete", "a.test.", "--wait"],
    ["zone", "delete", "a.test.", "--file", "x"],
    ["zone", "restore"],
    ["zone", "restore", "a.test.", "--force"],
    ["zone", "list", "--state", "bogus"],
    ["zone", "list", "--page-size", "0"],
    ["zone", "list", "--page-size", "10001"],
    ["zone", "list", "--page-size", "many"],
    ["zone", "list", "--policy", "default"],
])
def test_usage_errors_exit_2_with_one_line(tmp_path, args):
    p = zk(*args, "--socket", tmp_path / "never-used.sock")
    assert p.returncode == 2, p
    assert p.stderr.startswith("zonekeeper: ") and p.stderr.count("\n") == 1, p.stderr
    assert p.stdout == ""


@pytest.mark.parametrize("sub", ["add", "delete", "restore", "list"])
def test_help_of_each_zone_command(sub):
    p = ok(zk("zone", sub, "--help"))
    assert "Usage: zonekeeper zone" in p.stdout
    for word in ("zone add ZONE", "--policy", "--file", "--force", "zone restore ZONE",
                 "--state", "--page-size", "DS_AT_PARENT"):
        assert word in p.stdout, word


def test_main_help_lists_the_zone_commands():
    p = ok(zk("--help"))
    for cmd in ("zone add", "zone delete", "zone restore", "--page-size"):
        assert cmd in p.stdout, cmd


def test_unreachable_socket_exits_1(tmp_path):
    for args in (["zone", "add", "a.test."], ["zone", "add", "a.test.", "--wait"],
                 ["zone", "delete", "a.test.", "--force"], ["zone", "restore", "a.test."],
                 ["zone", "list", "--page-size", "5", "--state", "ok"]):
        p = zk(*args, "--socket", tmp_path / "nobody.sock")
        assert p.returncode == 1, p
        m = ERROR_LINE.match(p.stderr)
        assert m and m.group(1) == "UNREACHABLE" and "nobody.sock" in m.group(2), p.stderr


def test_add_with_a_bad_file_fails_before_sending(tmp_path):
    sock = tmp_path / "nobody.sock"   # an error about the socket would mean it was sent
    p = zk("zone", "add", "a.test.", "--file", tmp_path / "missing.zone", "--socket", sock)
    assert p.returncode == 1 and p.stderr.startswith("zonekeeper: INPUT: "), p
    bad = tmp_path / "latin1.zone"
    bad.write_bytes(b"@ IN TXT \"caf\xe9\"\n")
    p = zk("zone", "add", "a.test.", "--file", bad, "--socket", sock)
    assert p.returncode == 1 and "not UTF-8" in p.stderr, p
    assert p.stderr.count("\n") == 1


# ------------------------------------------------------------------ add

def test_add_with_a_file_strips_and_reports(daemon, tmp_path):
    s, d = daemon
    z = "new.test."
    f = tmp_path / "exported.zone"
    f.write_text(EXPORTED.format(o=z))
    p = ok(cli(d, "zone", "add", z, "--file", f, "--policy", "default"))
    assert p.stdout.startswith("created %s\n" % z), p.stdout
    assert re.search(r"^name:\s+%s$" % re.escape(z), p.stdout, re.M), p.stdout
    rows = [cells(l) for l in block(p.stdout, "stripped (zonekeeper makes these itself):")]
    assert rows[0] == ["NAME", "TYPE", "COUNT", "REASON"], rows
    by_type = {r[1]: r for r in rows[1:]}
    assert {"SOA", "RRSIG"} <= set(by_type), rows
    assert by_type["RRSIG"][2] == "1" and all(len(r) == 4 and r[3] for r in rows[1:]), rows
    assert "saved; publication follows" in p.stdout

    # the data is the zone's, the old provider's records are not
    d.wait_zone(z, lambda x: x["serial"], what="first publication of %s" % z)
    recs = json.loads(ok(cli(d, "record", "list", z, "--json")).stdout)["records"]
    assert {(r["name"], r["type"], r["content"]) for r in recs if not r["system"]} >= {
        ("new.test.", "A", "192.0.2.10"), ("www.new.test.", "A", "192.0.2.11")}
    assert not [r for r in recs if r["type"] == "RRSIG"]
    soa = [r for r in recs if r["type"] == "SOA"]
    assert len(soa) == 1 and soa[0]["system"]
    assert int(soa[0]["content"].split()[2]) != 7     # zonekeeper's serial, not the file's
    assert z in names(d) and CONF in names(d)

    # the same from standard input, --json: the reply as it came
    p = ok(cli(d, "zone", "add", "stdin.test.", "--file", "-", "--json",
               input=EXPORTED.format(o="stdin.test.")))
    j = json.loads(p.stdout)
    assert j["status"] == "ok" and j["zone"]["name"] == "stdin.test."
    assert {x["type"] for x in j["stripped"]} >= {"SOA", "RRSIG"}


def test_add_with_wait_prints_the_serial_and_the_ds(daemon):
    s, d = daemon
    z = "waited.test."
    p = ok(cli(d, "zone", "add", z, "--wait"))
    m = re.search(r"^published in serial (\d+)$", p.stdout, re.M)
    assert m, p.stdout
    assert int(m.group(1)) == d.zone(z)["serial"]
    assert s.output_file(z).exists()
    ds = block(p.stdout, "DS records for the parent zone:")
    assert ds and all(re.search(r"\sDS\s", l) for l in ds), p.stdout
    assert sorted(ds) == ds_of(d, z)    # as `zonekeeper ds ZONE` gives them
    assert "nothing stripped" not in p.stdout   # no --file: nothing to strip


def test_add_of_an_existing_zone_is_refused(daemon):
    s, d = daemon
    refused(cli(d, "zone", "add", CONF), "ZONE_EXISTS")
    ok(cli(d, "zone", "add", "twice.test."))
    refused(cli(d, "zone", "add", "twice.test."), "ZONE_EXISTS")
    assert names(d).count("twice.test.") == 1


def test_add_with_an_unknown_policy_is_refused(daemon):
    s, d = daemon
    message = refused(cli(d, "zone", "add", "nopolicy.test.", "--policy", "nosuch"),
                      "BAD_REQUEST")
    assert "nosuch" in message
    assert "nopolicy.test." not in names(d)


# ------------------------------------------------------------------ delete and restore

def test_delete_archives_and_restore_brings_back_the_same_keys(daemon):
    s, d = daemon
    z = "gone.test."
    ok(cli(d, "zone", "add", z, "--wait"))
    ds, tags = ds_of(d, z), key_tags(d, z)
    assert ds and tags

    p = ok(cli(d, "zone", "delete", z))
    lines = p.stdout.splitlines()
    assert lines[0] == "deleted %s" % z, p.stdout
    m = re.match(r"^archived in (.+)$", lines[1])
    assert m, p.stdout
    archive = Path(m.group(1))
    # <state_dir>/archive/<zone>/<UTC time>/: the input, the state directory, zone.json
    assert archive.is_dir() and archive.parent == s.state / "archive" / "gone.test", archive
    assert re.match(r"^\d{8}T\d{6}Z$", archive.name), archive
    assert (archive / "state" / "keys").is_dir() and (archive / "input.zone").is_file()
    assert json.loads((archive / "zone.json").read_text())["zone"] == "gone.test."
    m = re.match(r"^restorable until (\S+) with `zonekeeper zone restore %s`$" % re.escape(z),
                 lines[2])
    assert m and ISO.match(m.group(1)), p.stdout

    # gone: from the list, the API and the output directory
    assert z not in names(d)
    refused(cli(d, "zone", "show", z), "ZONE_NOT_FOUND")
    wait_for(lambda: not s.output_file(z).exists(), 10, "the signed file to go")
    refused(cli(d, "zone", "delete", z), "ZONE_NOT_FOUND")

    # back, with the same keys: the DS the parent has still matches
    p = ok(cli(d, "zone", "restore", z))
    assert p.stdout.startswith("restored %s with its keys\n" % z), p.stdout
    assert re.search(r"^name:\s+%s$" % re.escape(z), p.stdout, re.M), p.stdout
    d.wait_zone(z, lambda x: x["serial"] and x["state"] == "ok", what="republication")
    assert z in names(d)
    assert key_tags(d, z) == tags
    assert ds_of(d, z) == ds
    wait_for(lambda: s.output_file(z).exists(), 30, "the signed file to return")

    refused(cli(d, "zone", "restore", z), "ZONE_EXISTS")
    refused(cli(d, "zone", "restore", "never.test."), "ZONE_NOT_FOUND")


def test_delete_of_a_zone_from_the_configuration_is_refused(daemon):
    s, d = daemon
    before = s.output_file(CONF).read_bytes()
    refused(cli(d, "zone", "delete", CONF), "ZONE_IN_CONFIG")
    refused(cli(d, "zone", "delete", CONF, "--force"), "ZONE_IN_CONFIG")
    assert CONF in names(d)
    assert s.output_file(CONF).read_bytes() == before


# ------------------------------------------------------------------ list in pages

def test_list_pages_through_every_zone(daemon):
    s, d = daemon
    added = ["p%02d.test." % i for i in range(25)]
    for z in added:
        code, j = d.api("/v1/zones", "POST", json.dumps({"name": z}))
        assert code == 201 and j["zone"]["name"] == z, j
    every = set(added) | {CONF}

    # the API: pages of at most 7, each `next` leading on, every zone once
    seen, after, pages = [], None, 0
    while True:
        code, j = d.api("/v1/zones?limit=7" + ("&after=" + after if after else ""))
        assert code == 200 and j["status"] == "ok", j
        assert 0 < len(j["zones"]) <= 7, j
        seen += [z["name"] for z in j["zones"]]
        pages += 1
        after = j["next"]
        if after is None:
            break
        assert isinstance(after, str) and pages < 10, j
    assert pages == 4 and len(seen) == 26 and set(seen) == every

    # the CLI follows `next`: the same zones, each once, in pages of 7 or in one
    for args in (["--page-size", "7"], ["--page-size", "1"], []):
        got = names(d, *args)
        assert len(got) == 26 and set(got) == every, args
    p = ok(cli(d, "zone", "list", "--page-size", "7"))
    lines = p.stdout.splitlines()
    assert cells(lines[0])[:3] == ["NAME", "STATE", "SERIAL"]
    assert sorted(cells(l)[0] for l in lines[1:]) == sorted(every)

    # the state filter goes to the daemon: none of these is in error
    assert names(d, "--state", "error", "--page-size", "7") == []
    p = ok(cli(d, "zone", "list", "--state", "error"))
    assert len(p.stdout.splitlines()) == 1   # the header only
