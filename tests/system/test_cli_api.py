# SPDX-License-Identifier: MIT
"""`zonekeeper status|zone|record|keys ZONE|ds ZONE`: the CLI talking to a real zonekeeperd
through its API socket (doc/api.md): tables and --json, the exit codes (0 done, 1 failed,
2 usage, 3 refused) and the one-line error `zonekeeper: CODE: message`."""
from datetime import datetime, timedelta
import json
import re

import pytest

from zktest.daemon import Daemon
from zktest.tools import Setup, zk
from zktest.zones import SIMPLE

Z = "example.com."

ERROR_LINE = re.compile(r"^zonekeeper: ([A-Z_]+): (.+)\n$")


@pytest.fixture
def daemon(tmp_path):
    s = Setup(tmp_path, [Z])
    s.write_zone(Z, SIMPLE.format(origin=Z))
    d = Daemon(s)
    d.wait_ready()
    d.wait_zone(Z, lambda z: z["serial"], what="first publication")
    yield s, d
    d.close()


def cli(d, *args, **kw):
    return zk(*args, "--socket", d.api_socket, timeout=120, **kw)


def error_of(p):
    """The (code, message) of the one error line on stderr."""
    m = ERROR_LINE.match(p.stderr)
    assert m, "not one error line: %r" % p.stderr
    return m.group(1), m.group(2)


def table(text, marker=False):
    """Rows of an aligned table as lists of cells, cut at the header's column starts.
    marker: the last column has no title (the `system` marker of record tables): it is
    split off the last titled one, whose cells are padded."""
    lines = [l for l in text.splitlines() if l.strip()]
    head = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=  ))\S", head)]
    rows = []
    for l in lines[1:]:
        cells = [l[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
        if marker:
            content, _, mark = l[starts[-1]:].partition("  ")
            cells[-1:] = [content.strip(), mark.strip()]
        rows.append(cells)
    return head.split(), rows


def records(d, *filters):
    p = cli(d, "record", "list", Z, "--json", *filters)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["records"]


def serial(d):
    return d.zone(Z)["serial"]


# ------------------------------------------------------------------ no daemon needed

@pytest.mark.parametrize("args", [
    ["record"],
    ["record", "frobnicate", Z],
    ["record", "add", Z, "www", "A"],
    ["record", "add", Z, "www", "A", "192.0.2.9", "--ttl", "soon"],
    ["record", "add", Z, "www", "A", "192.0.2.9", "--ttl", "-1"],
    ["record", "update", Z, "0123456789abcdef"],
    ["record", "del", Z],
    ["record", "list"],
    ["record", "list", Z, "--bogus"],
    ["zone"],
    ["zone", "show"],
    ["zone", "list", "extra"],
    ["zone", "import", Z],
    ["status", "extra"],
])
def test_usage_errors_exit_2_with_one_line(tmp_path, args):
    p = zk(*args, "--socket", tmp_path / "never-used.sock")
    assert p.returncode == 2, p
    assert p.stderr.startswith("zonekeeper: ") and p.stderr.count("\n") == 1, p.stderr
    assert p.stdout == ""


@pytest.mark.parametrize("args", [
    ["status"], ["zone", "list"], ["zone", "show", Z], ["zone", "import", Z, "x"],
    ["record", "list", Z], ["record", "add", Z, "a", "A", "1.2.3.4"],
    ["record", "update", Z, "0123456789abcdef", "--ttl", "5"],
    ["record", "del", Z, "0123456789abcdef"], ["record"], ["zone"], ["keys"], ["ds"],
])
def test_help_on_every_command(args):
    p = zk(*args, "--help")
    assert p.returncode == 0 and "Usage: zonekeeper" in p.stdout, p


def test_unreachable_socket_exits_1(tmp_path):
    for args in (["status"], ["zone", "list"], ["record", "list", Z], ["keys", Z],
                 ["record", "add", Z, "www", "A", "192.0.2.9"]):
        p = zk(*args, "--socket", tmp_path / "nobody.sock")
        assert p.returncode == 1, p
        code, message = error_of(p)
        assert code == "UNREACHABLE" and "nobody.sock" in message, p.stderr


def test_unreadable_config_is_a_usage_error(tmp_path):
    p = zk("status", "--config", tmp_path / "missing.conf")
    assert p.returncode == 2, p


# ------------------------------------------------------------------ zones and status

def test_socket_comes_from_the_configuration(daemon):
    s, d = daemon
    p = zk("status", "--config", s.config)
    assert p.returncode == 0, p.stderr
    assert str(d.api_socket) in p.stdout


def test_status_one_line_per_zone(daemon):
    s, d = daemon
    p = cli(d, "status")
    assert p.returncode == 0, p.stderr
    head, rows = table(p.stdout.split("\n", 1)[1])
    assert head[:3] == ["ZONE", "STATE", "SERIAL"]
    assert len(rows) == 1
    assert rows[0][:3] == [Z, "ok", str(serial(d))]
    assert head[-2:] == ["KEYS", "ERROR"]
    assert rows[0][5] == "-"  # no key step waits (a new zone asks for no DS yet)
    assert rows[0][6] == ""  # no error
    p = cli(d, "status", "--json")
    assert p.returncode == 0
    assert [z["name"] for z in json.loads(p.stdout)["zones"]] == [Z]


def test_zone_list_and_show(daemon):
    s, d = daemon
    p = cli(d, "zone", "list")
    assert p.returncode == 0, p.stderr
    head, rows = table(p.stdout)
    assert head[0] == "NAME" and rows[0][0] == Z and rows[0][2] == str(serial(d))
    j = json.loads(cli(d, "zone", "list", "--json").stdout)
    assert j["status"] == "ok" and j["zones"][0]["name"] == Z

    p = cli(d, "zone", "show", Z)
    assert p.returncode == 0, p.stderr
    assert re.search(r"^name:\s+%s$" % re.escape(Z), p.stdout, re.M)
    assert re.search(r"^serial:\s+%d$" % serial(d), p.stdout, re.M)
    assert json.loads(cli(d, "zone", "show", "example.com", "--json").stdout)["zone"]["name"] == Z


def test_unknown_zone_is_refused_with_3(daemon):
    s, d = daemon
    for args in (["zone", "show", "nope.test."], ["record", "list", "nope.test."]):
        p = cli(d, *args)
        assert p.returncode == 3, p
        assert error_of(p)[0] == "ZONE_NOT_FOUND"
        assert p.stdout == ""


# ------------------------------------------------------------------ records

def test_record_round_trip(daemon):
    s, d = daemon
    # add, JSON
    p = cli(d, "record", "add", Z, "api", "A", "192.0.2.77", "--ttl", "1200", "--json")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    rec = j["record"]
    assert j["created"] is True
    assert (rec["name"], rec["type"], rec["content"], rec["ttl"], rec["system"]) == \
        ("api.example.com.", "A", "192.0.2.77", 1200, False)
    assert re.fullmatch(r"[0-9a-f]{16}", rec["id"])
    rid = rec["id"]

    # the same again: already there, same id
    p = cli(d, "record", "add", Z, "api", "A", "192.0.2.77")
    assert p.returncode == 0, p.stderr
    assert "already present; nothing changed" in p.stdout and rid in p.stdout

    # list, table: aligned columns, the record in its row
    p = cli(d, "record", "list", Z)
    assert p.returncode == 0, p.stderr
    head, rows = table(p.stdout, marker=True)
    assert head == ["ID", "NAME", "TTL", "TYPE", "CONTENT"]
    assert [rid, "api.example.com.", "1200", "A", "192.0.2.77", ""] in rows
    # filters
    only = records(d, "--name", "api", "--type", "A")
    assert [r["id"] for r in only] == [rid]

    # update with --wait: a new id (the content changed), the published serial printed
    before = serial(d)
    p = cli(d, "record", "update", Z, rid, "--content", "192.0.2.78", "--wait")
    assert p.returncode == 0, p.stderr
    m = re.search(r"^updated; published in serial (\d+)$", p.stdout, re.M)
    assert m, p.stdout
    assert int(m.group(1)) != before and serial(d) == int(m.group(1))
    head, rows = table(p.stdout.split("\nupdated")[0], marker=True)
    new_id = rows[0][0]
    assert new_id != rid and rows[0][4] == "192.0.2.78"
    assert "api.example.com." in s.output_file(Z).read_text()

    # TTL only: same id
    p = cli(d, "record", "update", Z, new_id, "--ttl", "600", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["record"] == dict(rec, id=new_id, content="192.0.2.78", ttl=600)

    # delete with --wait; gone from the list and from the published zone
    p = cli(d, "record", "del", Z, new_id, "--wait")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^deleted; published in serial \d+$", p.stdout, re.M)
    assert records(d, "--name", "api") == []
    assert "api.example.com." not in s.output_file(Z).read_text()

    # deleting it again: RECORD_NOT_FOUND, 3
    p = cli(d, "record", "del", Z, new_id)
    assert p.returncode == 3, p
    assert error_of(p)[0] == "RECORD_NOT_FOUND"


def test_content_in_several_arguments_is_joined(daemon):
    s, d = daemon
    p = cli(d, "record", "add", Z, "@", "MX", "20", "mail2", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["record"]["content"] == "20 mail2.example.com."


def test_system_records_are_marked(daemon):
    s, d = daemon
    p = cli(d, "record", "list", Z)
    assert p.returncode == 0, p.stderr
    head, rows = table(p.stdout, marker=True)
    by_type = {}
    for r in rows:
        by_type.setdefault(r[3], []).append(r)
    assert all(r[5] == "system" for r in by_type["SOA"] + by_type["DNSKEY"])
    assert all(r[5] == "" for r in by_type["A"] + by_type["MX"])


def test_protected_record_is_refused_with_3_and_the_daemons_message(daemon):
    s, d = daemon
    before = serial(d)
    body = json.dumps({"name": "@", "type": "SOA",
                       "content": "ns1.example.net. hostmaster 1 2 3 4 5"})
    code, j = d.api("/v1/zones/%s/records" % Z, "POST", body)
    assert code == 403

    p = cli(d, "record", "add", Z, "@", "SOA", "ns1.example.net. hostmaster 1 2 3 4 5")
    assert p.returncode == 3, p
    assert error_of(p) == ("PROTECTED_RECORD", j["error"]["message"])
    assert p.stdout == ""

    soa = [r for r in records(d, "--type", "SOA")][0]
    for args in (["record", "del", Z, soa["id"]],
                 ["record", "update", Z, soa["id"], "--ttl", "60"],
                 ["record", "add", Z, "@", "DNSKEY", "256 3 13 AAAA"]):
        p = cli(d, *args)
        assert p.returncode == 3, p
        assert error_of(p)[0] == "PROTECTED_RECORD"
    assert serial(d) == before


def test_cname_conflict_and_invalid_record_are_refused(daemon):
    s, d = daemon
    p = cli(d, "record", "add", Z, "www", "CNAME", "mail")
    assert p.returncode == 3 and error_of(p)[0] == "CNAME_CONFLICT", p
    p = cli(d, "record", "add", Z, "www", "A", "not-an-address")
    assert p.returncode == 3 and error_of(p)[0] == "INVALID_RECORD", p


# ------------------------------------------------------------------ import

SIGNED_INPUT = """\
$ORIGIN {o}
$TTL 3600
@        IN SOA   ns1.example.net. hostmaster 7 7200 3600 1209600 3600
@        IN NS    ns1.example.net.
@        IN A     192.0.2.1
@        IN DNSKEY 256 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
@        IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGA==
@        IN NSEC3PARAM 1 0 0 -
imported IN A     192.0.2.99
imported IN RRSIG A 13 3 3600 20300101000000 20200101000000 12345 {o} mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
"""


def test_import_prints_what_was_stripped(daemon, tmp_path):
    s, d = daemon
    f = tmp_path / "signed.zone"
    f.write_text(SIGNED_INPUT.format(o=Z))
    before = serial(d)
    p = cli(d, "zone", "import", Z, f, "--wait")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^imported \d+ records( \(\d+ added, \d+ deleted\))?$", p.stdout, re.M), \
        p.stdout
    m = re.search(r"^published in serial (\d+)$", p.stdout, re.M)
    assert m and int(m.group(1)) != before
    stripped = p.stdout.split("stripped (zonekeeper makes these itself):\n")[1]
    stripped = stripped.split("\npublished")[0]
    head, rows = table(stripped)
    assert head == ["NAME", "TYPE", "COUNT", "REASON"]
    types = {r[1] for r in rows}
    assert {"SOA", "DNSKEY", "RRSIG", "NSEC3PARAM"} <= types, rows
    assert all(r[3] for r in rows)  # every row says why
    dnskey = [r for r in rows if r[1] == "DNSKEY"][0]
    assert dnskey[2] == "2"
    assert [r["content"] for r in records(d, "--name", "imported")] == ["192.0.2.99"]

    p = cli(d, "zone", "import", Z, f, "--json")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert j["status"] == "ok" and {x["type"] for x in j["stripped"]} >= {"DNSKEY", "RRSIG"}


def test_import_of_a_missing_file_fails_before_sending(daemon, tmp_path):
    s, d = daemon
    p = cli(d, "zone", "import", Z, tmp_path / "missing.zone")
    assert p.returncode == 1
    assert p.stderr.startswith("zonekeeper: ") and p.stderr.count("\n") == 1


# ------------------------------------------------------------------ keys and ds

def test_bad_key_requests_are_refused_and_change_nothing(daemon):
    s, d = daemon
    before = json.loads(cli(d, "keys", Z, "--json").stdout)["keys"]
    files = sorted(p.name for p in s.key_dir(Z).iterdir())
    serial0 = serial(d)
    # a CSK roll for a KSK+ZSK zone, an unknown type, an unknown field, a bad tag
    p = cli(d, "key", "rollover", Z, "--type", "csk")
    assert p.returncode == 3
    assert error_of(p) == ("BAD_REQUEST", "malformed request: zone %s uses KSK+ZSK keys: roll \"ksk\" or \"zsk\"" % Z)
    p = cli(d, "key", "rollover", Z, "--type", "big")
    assert p.returncode == 2 and "--type takes ksk, zsk or csk" in p.stderr
    code, body = d.api("/v1/zones/%s/keys/rollover" % Z, "POST", '{"type":"zsk","when":1}')
    assert code == 400 and body["error"]["message"] == "malformed request: unknown field 'when'", body
    code, body = d.api("/v1/zones/%s/keys/rollover" % Z, "POST", '["zsk"]')
    assert code == 400 and body["error"]["code"] == "BAD_REQUEST", body
    p = cli(d, "key", "ds-seen", Z, "70000")
    assert p.returncode == 2 and "TAG is a key tag" in p.stderr
    code, body = d.api("/v1/zones/%s/keys/1/ds-seen" % Z, "POST", "{}")
    assert code == 404 and body["error"]["code"] == "KEY_NOT_FOUND", body
    assert body["error"]["message"] == ("no such key in the zone: no key-signing key with "
                                        "tag 1 in the zone"), body
    # nothing generated, nothing published
    assert json.loads(cli(d, "keys", Z, "--json").stdout)["keys"] == before
    assert sorted(p.name for p in s.key_dir(Z).iterdir()) == files
    assert serial(d) == serial0


def test_keys_and_ds_from_the_daemon(daemon):
    s, d = daemon
    p = cli(d, "keys", Z)
    assert p.returncode == 0, p.stderr
    head, rows = table(p.stdout)
    assert head[:4] == ["TAG", "ROLE", "ALGORITHM", "STATE"]
    assert {r[1].lower() for r in rows} >= {"ksk", "zsk"}
    view = json.loads(cli(d, "keys", Z, "--json").stdout)
    assert view["status"] == "ok"
    # the next key event says what happens then, to which key: a young zone's KSK
    # reaches every cache first
    ksk = [k["tag"] for k in view["keys"] if k["role"] == "KSK"][0]
    assert view["next_key_action"] == "KSK %d has its DNSKEY in every cache" % ksk, view
    assert "next key event: %s: KSK %d has its DNSKEY" % (view["next_key_event"], ksk) \
        in p.stdout, p.stdout
    assert view["rollovers_pending"] == [], view
    # planned by the lifetimes (90 days for a ZSK, 365 for a KSK by default): the
    # successor made Ipub before the end, a ZSK's DNSKEY gone once its signatures are
    # (a KSK's lifetime counts from its DS seen at the parent: nothing planned before)
    iso = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    zsk = [k for k in view["keys"] if k["role"] == "ZSK"][0]
    retire = iso(zsk["retire_planned"]) - iso(zsk["active"])
    assert timedelta(days=90) - timedelta(hours=3) < retire < timedelta(days=90), zsk
    assert iso(zsk["remove_planned"]) - iso(zsk["active"]) > timedelta(days=90), zsk
    k = [k for k in view["keys"] if k["role"] == "KSK"][0]
    assert k["ds"] == "hidden" and k["retire_planned"] is None, k
    assert re.search(r"\s~\d{4}-\d\d-\d\dT", p.stdout), p.stdout

    p = cli(d, "ds", Z)
    assert p.returncode == 0, p.stderr
    remote = [l for l in p.stdout.splitlines() if l.strip()]
    assert remote and all(re.search(r"\bDS\b", l) for l in remote)
    # not for the parent yet, and said so (stdout stays the records alone)
    assert "DS %d: not for the parent yet" % ksk in p.stderr, p.stderr
    # the key files say the same (local mode, unchanged)
    local = s.ds(Z)
    assert {l.split()[-1].upper() for l in remote} >= {l.split()[-1].upper() for l in local}

    p = cli(d, "keys", "nope.test.")
    assert p.returncode == 3 and error_of(p)[0] == "ZONE_NOT_FOUND"
