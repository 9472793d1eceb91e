# SPDX-License-Identifier: MIT
"""zonekeeperd as a process: the systemd notify protocol, change events of every kind,
broken input, restarts, the API socket."""
import json
import os
import re
import signal
import time

import pytest

from zktest.daemon import Daemon, wait_for
from zktest.tools import Setup, ldns_verify, run, sha256, zk
from zktest.zones import SIMPLE

A, B = "example.com.", "example.org."


def gt(a, b):
    return a != b and (a - b) % 2**32 < 2**31


@pytest.fixture
def two_zones(tmp_path):
    s = Setup(tmp_path, [A, B])
    s.write_zone(A, SIMPLE.format(origin=A))
    s.write_zone(B, SIMPLE.format(origin=B))
    d = Daemon(s, watchdog_usec=1000000)
    yield s, d
    d.close()


def serial_of(d, zone):
    return d.zone(zone)["serial"]


def test_notify_protocol(two_zones):
    s, d = two_zones
    d.wait_ready()
    assert any(m.startswith("STATUS=") for m in d.read_notify())
    # WATCHDOG_USEC=1s: sd-event pings at half the interval
    n = len(d.read_notify())
    d.wait_notify("WATCHDOG=1", timeout=5, after=n)
    n = len(d.read_notify())
    d.signal(signal.SIGHUP)
    d.wait_notify("RELOADING=1", after=n)
    d.wait_notify("READY=1", after=n)
    n = len(d.read_notify())
    d.signal(signal.SIGTERM)
    d.wait_notify("STOPPING=1", after=n)
    assert d.proc.wait(timeout=20) == 0


def test_edit_in_place_is_published_with_a_higher_serial(two_zones):
    s, d = two_zones
    d.wait_ready()
    before = serial_of(d, A)
    with open(s.input_file(A), "a") as f:
        f.write("edited IN A 192.0.2.50\n")
    z = d.wait_zone(A, lambda z: z["serial"] != before, what="a new serial")
    assert gt(z["serial"], before)
    # one record changed: a handful of signatures, not the zone
    assert 1 <= z["signatures_made"] <= 6, z
    assert "edited.example.com." in s.output_file(A).read_text()
    assert ldns_verify(s.output_file(A)).returncode == 0


def test_atomic_rename_new_file_and_delete(two_zones):
    s, d = two_zones
    d.wait_ready()
    # atomic rename, as editors and config management do
    before = serial_of(d, A)
    tmp = s.input.joinpath(".example.com.zone.tmp")
    tmp.write_text(SIMPLE.format(origin=A) + "renamed IN A 192.0.2.51\n")
    tmp.rename(s.input_file(A))
    d.wait_zone(A, lambda z: z["serial"] != before, what="publication after rename")
    assert "renamed.example.com." in s.output_file(A).read_text()
    # deleting the input keeps the last good zone and says why
    published = sha256(s.output_file(A))
    s.input_file(A).unlink()
    z = d.wait_zone(A, lambda z: z["error"] is not None, what="an error")
    assert z["error"]["code"] == "INPUT_UNREADABLE" and "example.com.zone" in z["error"]["message"]
    assert sha256(s.output_file(A)) == published
    # a new file brings it back
    s.write_zone(A, SIMPLE.format(origin=A) + "back IN A 192.0.2.52\n")
    z = d.wait_zone(A, lambda z: z["error"] is None and z["state"] == "ok", what="recovery")
    assert "back.example.com." in s.output_file(A).read_text()
    assert ldns_verify(s.output_file(A)).returncode == 0


def test_bad_input_keeps_last_good_zone_and_others_work(two_zones):
    s, d = two_zones
    d.wait_ready()
    good = s.output_file(A).read_bytes()
    serial = serial_of(d, A)
    s.write_zone(A, SIMPLE.format(origin=A) + "www IN CNAME mail\n")
    z = d.wait_zone(A, lambda z: z["error"] is not None, what="the CNAME error")
    assert z["error"]["code"] == "CNAME_CONFLICT"
    assert z["error"]["line"] == 9 and z["error"]["file"].endswith("example.com.zone")
    assert z["serial"] == serial and s.output_file(A).read_bytes() == good
    # the other zone keeps working
    before = serial_of(d, B)
    with open(s.input_file(B), "a") as f:
        f.write("other IN A 192.0.2.60\n")
    d.wait_zone(B, lambda z: z["serial"] != before, what="the other zone")
    # fixing the file recovers
    s.write_zone(A, SIMPLE.format(origin=A) + "fixed IN A 192.0.2.61\n")
    z = d.wait_zone(A, lambda z: z["error"] is None and z["serial"] != serial, what="recovery")
    assert gt(z["serial"], serial)
    assert "fixed.example.com." in s.output_file(A).read_text()


def test_restart_with_unchanged_input_publishes_nothing(two_zones, tmp_path):
    s, d = two_zones
    d.wait_ready()
    files = {z: s.output_file(z).read_bytes() for z in (A, B)}
    serials = {z: serial_of(d, z) for z in (A, B)}
    sizes = {z: d.zone(z)["dnskey_response"] for z in (A, B)}
    assert d.stop() == 0
    d2 = Daemon(s)
    try:
        d2.wait_ready()
        for z in (A, B):
            assert d2.zone(z)["serial"] == serials[z]
            assert s.output_file(z).read_bytes() == files[z]
            # what the status knew before the restart, it knows after it without a change
            assert d2.zone(z)["dnskey_response"] == sizes[z] > 0
        text = run(["curl", "-sS", "--max-time", "10", "--unix-socket", str(s.api_socket),
                    "http://zonekeeper/metrics?zone=" + A], timeout=30).stdout
        assert 'zonekeeper_zone_dnskey_response_bytes{zone="%s"} %d' % (A, sizes[A]) in text
        code, keys = d2.api("/v1/zones/%s/keys" % A)
        assert code == 200 and "parent_error" in keys and keys["parent_error"] is None
        # and a change made while it was down is published after the restart
        d2.stop()
        with open(s.input_file(A), "a") as f:
            f.write("offline IN A 192.0.2.70\n")
        d3 = Daemon(s)
        try:
            d3.wait_ready()
            z = d3.zone(A)
            assert gt(z["serial"], serials[A])
            assert 1 <= z["signatures_made"] <= 6
            assert s.output_file(B).read_bytes() == files[B]
        finally:
            d3.close()
    finally:
        d2.close()


def test_sighup_adds_and_removes_zones_and_refuses_a_broken_config(two_zones):
    s, d = two_zones
    d.wait_ready()
    c = "example.net."
    s.write_zone(c, SIMPLE.format(origin=c))
    good = s.config.read_text()
    s.config.write_text(good.replace('{ name = "example.org."; }',
                                     '{ name = "example.net."; }'))
    n = len(d.read_notify())
    d.signal(signal.SIGHUP)
    d.wait_notify("READY=1", after=n)
    wait_for(lambda: s.output_file(c).exists(), what="the added zone published")
    code, j = d.api("/v1/zones/example.org.")
    assert code == 404 and j["error"]["code"] == "ZONE_NOT_FOUND"
    # a broken configuration is refused and the running one kept
    s.config.write_text(good.replace("policies", "polices"))
    n = len(d.read_notify())
    d.signal(signal.SIGHUP)
    d.wait_notify("READY=1", after=n)
    assert d.api("/v1/zones/example.net.")[0] == 200
    assert "configuration refused" in d.log_text()


def test_reload_command_waits_until_applied_and_fails_on_a_broken_config(two_zones):
    """`zonekeeper reload` (POST /v1/reload): returns once the configuration is applied,
    with what changed; a configuration that does not load fails the command (exit 3, the
    error naming what is wrong) and the running one stays."""
    s, d = two_zones
    d.wait_ready()
    c = "example.net."
    s.write_zone(c, SIMPLE.format(origin=c))
    good = s.config.read_text()
    s.config.write_text(good.replace('{ name = "example.org."; }',
                                     '{ name = "example.org."; }, { name = "example.net."; }'))
    out = zk("reload", "--socket", str(s.api_socket), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == \
        "configuration applied: 3 zones, 1 added, 0 changed, 0 removed", out.stdout
    # applied before the answer: the zone is there at once, no waiting
    code, j = d.api("/v1/zones/" + c)
    assert code == 200 and j["zone"]["name"] == c, j
    wait_for(lambda: s.output_file(c).exists(), what="the added zone published")

    s.config.write_text(good.replace("policies", "polices"))
    out = zk("reload", "--socket", str(s.api_socket), timeout=120)
    assert out.returncode == 3, (out.returncode, out.stdout, out.stderr)
    assert "CONFIG_INVALID" in out.stderr and "polices" in out.stderr, out.stderr
    assert d.api("/v1/zones/" + c)[0] == 200  # the running configuration stays

    s.config.write_text(good)
    out = zk("reload", "--socket", str(s.api_socket), "--json", timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"status": "ok", "zones": 2, "added": 0, "changed": 0,
                                      "removed": 1}, out.stdout
    assert d.api("/v1/zones/" + c)[0] == 404
    code, j = d.api("/v1/reload")
    assert code == 405 and j["error"]["code"] == "METHOD_NOT_ALLOWED", j


def test_unusable_directories_are_named_by_check_config_and_at_start():
    """A state directory the service user cannot create: `--check-config` and
    `zonekeeper check-config` refuse the configuration naming the path, and a start exits
    at once with that line instead of never becoming ready. Run as nobody (setpriv)."""
    import shutil
    import subprocess
    import tempfile
    from zktest.daemon import ZONEKEEPERD
    from zktest.tools import ZONEKEEPER

    if not shutil.which("setpriv") or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to run as another user")
    top = tempfile.mkdtemp(prefix="zk-paths-", dir="/tmp")
    try:
        os.chmod(top, 0o755)
        root_only = os.path.join(top, "root-only")
        os.mkdir(root_only, 0o755)
        conf = os.path.join(top, "zonekeeper.conf")
        with open(conf, "w") as f:
            f.write('paths = { state_dir = "%s/state"; output_dir = "%s/out"; };\n'
                    'api = { socket = "%s/api.sock"; };\n'
                    'policies = ( { name = "default"; nameservers = [ "ns1.example.net." ]; } );\n'
                    'zones = ( { name = "example.com."; } );\n' % (root_only, top, top))
        os.chmod(conf, 0o644)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        want = "state directory %s/state cannot be used: %s: Permission denied" % (
            root_only, root_only)
        for argv in ([str(ZONEKEEPERD), "--check-config", "--config", conf],
                     [str(ZONEKEEPER), "check-config", "--config", conf]):
            p = run(nobody + argv, timeout=30)
            assert p.returncode == 2 and want in p.stderr, (argv, p.returncode, p.stderr)
        p = run(nobody + [str(ZONEKEEPERD), "--config", conf], timeout=30)
        assert p.returncode == 1 and "cannot start: " + want in p.stderr, p.stderr
        # as root the same configuration is fine: the directory can be made
        p = run([str(ZONEKEEPERD), "--check-config", "--config", conf], timeout=30)
        assert p.returncode == 0, p.stderr
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_api_health_and_errors(two_zones):
    s, d = two_zones
    d.wait_ready()
    code, h = d.api("/v1/health")
    assert code == 200 and h["status"] == "ok" and h["unixtime"] > 0, h
    code, j = d.api("/v1/nothing")
    assert code == 404 and j == {"status": "error", "error": {"code": "NOT_FOUND",
                                                               "message": "no such endpoint"}}
    code, j = d.api("/v1/zones", method="DELETE")
    assert code == 405 and j["error"]["code"] == "METHOD_NOT_ALLOWED"
    code, j = d.api("/v1/zones")
    assert code == 200 and sorted(z["name"] for z in j["zones"]) == [A, B]
    mode = s.api_socket.stat().st_mode & 0o777
    assert mode == 0o660


def test_socket_activation(tmp_path):
    """The API socket passed by systemd-socket-activate is used, and the first request
    reaches the daemon started on demand."""
    s = Setup(tmp_path, [A])
    s.write_zone(A, SIMPLE.format(origin=A))
    from zktest.daemon import ZONEKEEPERD
    import subprocess
    sock = s.api_socket
    p = subprocess.Popen(["systemd-socket-activate", "-l", str(sock), str(ZONEKEEPERD),
                          "--config", str(s.config)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: sock.exists(), what="the activation socket")
        out = run(["curl", "-sS", "--max-time", "20", "--unix-socket", sock,
                   "http://zonekeeper/v1/health"], timeout=30)
        assert out.returncode == 0 and '"ok"' in out.stdout, out.stderr
        wait_for(lambda: s.output_file(A).exists(), what="the zone published")
    finally:
        p.terminate()
        p.wait(timeout=20)


def test_input_moved_away_and_back_after_a_write_back_recovers(two_zones, tmp_path):
    """The file our write-back left, moved away (the zone fails: no input) and back (the
    same inode, size and mtime as our own write): it is read again at once, without a touch
    or a reload, and the log says it came back. Then the same with a hard link."""
    s, d = two_zones
    d.wait_ready()
    code, j = d.api("/v1/zones/%s/records?wait=published" % A, "POST",
                    '{"name":"api","type":"A","content":"192.0.2.7"}')
    assert code == 201, j
    # written back once the zone is quiet (5 s)
    wait_for(lambda: "api" in s.input_file(A).read_text(), timeout=30, what="the write-back")
    d.wait_zone(A, lambda z: z["pending_writeback"] == 0, what="the journal trimmed")
    away = tmp_path / "away.zone"
    for how in ("rename", "link"):
        os.rename(s.input_file(A), away)
        z = d.wait_zone(A, lambda z: z["error"] is not None, what="the missing input")
        assert z["input_broken"] and "example.com.zone" in z["error"]["message"], z
        mark = len(d.log_text())
        if how == "rename":
            os.rename(away, s.input_file(A))
        else:
            os.link(away, s.input_file(A))
            away.unlink()
        z = d.wait_zone(A, lambda z: z["error"] is None and z["state"] == "ok",
                        what="recovery after the %s" % how)
        assert not z["input_broken"], z
        assert "came back" in d.log_text()[mark:], d.log_text()[mark:]
        assert "api.example.com.\t" in s.output_file(A).read_text()
    assert ldns_verify(s.output_file(A)).returncode == 0


def test_input_directory_moved_away_and_back_is_watched_again(two_zones, tmp_path):
    """The watch of a directory moved away follows it elsewhere: the daemon ends it, the
    zones there fail (no input), and once the directory is back it is watched again and
    read: both zones recover, and a later edit is seen."""
    s, d = two_zones
    d.wait_ready()
    away = tmp_path / "in.away"
    os.rename(s.input, away)
    for zone in (A, B):
        d.wait_zone(zone, lambda z: z["error"] is not None, what="the missing input")
    os.rename(away, s.input)
    for zone in (A, B):
        d.wait_zone(zone, lambda z: z["error"] is None and z["state"] == "ok",
                    what="recovery of %s" % zone)
    assert "is back: watching it again" in d.log_text()
    before = serial_of(d, A)
    with open(s.input_file(A), "a") as f:
        f.write("later IN A 192.0.2.53\n")
    d.wait_zone(A, lambda z: z["serial"] != before, what="an edit after the move")


def test_write_back_keeps_the_input_files_owner_group_and_mode(two_zones):
    """The input file belongs to a provisioning account (uid 4242, group 4243, mode
    0640): the file the write-back puts in its place has the same owner, group and mode,
    so that account can still edit it; the status says nothing went wrong."""
    s, d = two_zones
    d.wait_ready()
    path = s.input_file(A)
    os.chown(path, 4242, 4243)
    os.chmod(path, 0o640)
    ino = os.stat(path).st_ino
    code, j = d.api("/v1/zones/%s/records?wait=published" % A, "POST",
                    '{"name":"owned","type":"A","content":"192.0.2.9"}')
    assert code == 201, j
    wait_for(lambda: "owned" in path.read_text(), timeout=30, what="the write-back")
    st = os.stat(path)
    assert st.st_ino != ino  # replaced, not edited in place
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (4242, 4243, 0o640), st
    z = d.wait_zone(A, lambda z: z["pending_writeback"] == 0, what="the journal trimmed")
    assert z["writeback_error"] is None, z


@pytest.mark.slow  # a zone of 150,000 names; the ASan build runs the rest
def test_ready_at_once_then_each_zone_loads_and_signs(tmp_path):
    """READY=1 comes as soon as the daemon is up, with a large zone still to load and
    sign: that zone shows `loading` or `signing` with a progress, STATUS= counts the zones
    ready, a write to it is answered 503 with Retry-After, and it is `ok` once signed."""
    big = "big.test."
    s = Setup(tmp_path, [A, big])
    s.write_zone(A, SIMPLE.format(origin=A))
    s.write_zone(big, "$ORIGIN big.test.\n$TTL 300\n@ IN SOA ns1 h 1 1h 15m 1d 300\n"
                      "@ IN NS ns1.example.net.\n" +
                 "".join("n%d IN A 10.%d.%d.%d\n" % (i, i >> 16, (i >> 8) & 255, i & 255)
                         for i in range(150000)))
    d = Daemon(s)
    try:
        d.wait_notify("READY=1", timeout=30)
        z = d.zone(big)
        assert z["state"] in ("pending", "loading", "signing"), z
        assert z["state"] == "pending" or 0 <= z["progress"] <= 100, z
        health = d.api("/v1/health")[1]
        assert health["zones_starting"] >= 1, health
        p = run(["curl", "-sS", "-i", "--max-time", "10", "--unix-socket", str(s.api_socket),
                 "-X", "POST", "-H", "Content-Type: application/json", "--data-binary",
                 '{"name":"early","type":"A","content":"192.0.2.1"}',
                 "http://zonekeeper/v1/zones/%s/records" % big], timeout=30)
        assert p.stdout.startswith("HTTP/1.1 503"), p.stdout
        assert re.search(r"^Retry-After: \d+\r?$", p.stdout, re.M), p.stdout
        assert '"UNAVAILABLE"' in p.stdout and "not loaded yet" in p.stdout, p.stdout
        # the status line counts the zones ready while the start goes on
        assert any(re.match(r"STATUS=starting: \d of 2 zones ready", m)
                   for m in d.read_notify()), d.read_notify()
        d.wait_ready(timeout=600)
        z = d.zone(big)
        assert z["state"] == "ok" and z["progress"] is None and z["names"] > 150000, z
        assert d.api("/v1/health")[1]["zones_starting"] == 0
        code, j = d.api("/v1/zones/%s/records" % big, "POST",
                        '{"name":"later","type":"A","content":"192.0.2.1"}')
        assert code == 201, j
    finally:
        d.close()
