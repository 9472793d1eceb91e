# SPDX-License-Identifier: MIT
"""One publisher per state directory: `zonekeeper sign` run beside a running zonekeeperd
refuses and changes nothing, naming the daemon's PID; a daemon started while a sign holds
the state directory refuses to start, naming the sign's PID, and starts once it is done."""
import fcntl
import os

from zktest.daemon import Daemon
from zktest.tools import Setup, ldns_verify
from zktest.zones import SIMPLE

A = "example.com."


def snapshot(paths):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


def test_sign_beside_the_daemon_is_refused_and_changes_nothing(tmp_path):
    s = Setup(tmp_path, [A])
    s.write_zone(A, SIMPLE.format(origin=A))
    d = Daemon(s)
    try:
        d.wait_ready()
        serial = d.zone(A)["serial"]
        state = s.state / "zones" / "example.com" / "state"
        before = snapshot([s.output_file(A), state])
        keys = sorted(os.listdir(s.key_dir(A)))
        with open(s.input_file(A), "a") as f:  # something a sign would publish
            f.write("edited IN A 192.0.2.50\n")
        p = s.sign(check=False)
        assert p.returncode == 1, p.stdout + p.stderr
        assert "zonekeeperd (PID %d)" % d.proc.pid in p.stderr, p.stderr
        assert "[CONFLICT]" in p.stderr and "nothing signed" in p.stderr, p.stderr
        assert snapshot([s.output_file(A), state]) == before
        assert sorted(os.listdir(s.key_dir(A))) == keys
        # the daemon itself publishes the edit, with the next serial
        z = d.wait_zone(A, lambda z: z["serial"] != serial, what="the edit published")
        assert "edited.example.com." in s.output_file(A).read_text()
        assert z["error"] is None
    finally:
        d.close()
    # the daemon gone, the same command signs
    p = s.sign(check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert ldns_verify(s.output_file(A)).returncode == 0


def test_daemon_started_while_a_sign_runs_refuses_then_starts(tmp_path):
    s = Setup(tmp_path, [A])
    s.write_zone(A, SIMPLE.format(origin=A))
    s.state.mkdir(parents=True, exist_ok=True)
    # hold the lock as `zonekeeper sign` does (a shared POSIX lock): a real sign of a small
    # zone would be over before the daemon starts
    with open(s.state / "lock", "a+") as f:
        fcntl.lockf(f, fcntl.LOCK_SH)
        d = Daemon(s)
        try:
            assert d.proc.wait(timeout=30) != 0
            log = d.log_text()
            assert "zonekeeper sign (PID %d)" % os.getpid() in log, log
            assert not s.output_file(A).exists()
        finally:
            d.close()
        fcntl.lockf(f, fcntl.LOCK_UN)
    d = Daemon(s)
    try:
        d.wait_ready()
        d.wait_zone(A, lambda z: z["serial"], what="the zone published")
        assert ldns_verify(s.output_file(A)).returncode == 0
    finally:
        d.close()
