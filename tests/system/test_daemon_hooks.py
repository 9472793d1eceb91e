# SPDX-License-Identifier: MIT
"""After each publication: the reload command runs without a shell (arguments stay whole),
and DNS NOTIFY reaches every configured address and is retried until answered. Both are
retried with backoff until they succeed (or a newer publication replaces them), their
failures are in the zone's status and /metrics, and a restart runs a hook still owed."""
import re
import socket
import threading
import time

import dns.message
import dns.opcode
import dns.rcode

from zktest.daemon import Daemon, wait_for
from zktest.tools import Setup, run
from zktest.zones import SIMPLE

A = "example.com."


class NotifyListener:
    """A UDP server on loopback that records NOTIFY messages; it ignores the first
    `ignore` of them (so the daemon must retry) and answers the rest."""

    def __init__(self, ignore=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.ignore = ignore
        self.seen = []
        self.answered = []
        self.stop = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.stop:
            try:
                data, addr = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            m = dns.message.from_wire(data)
            self.seen.append(m)
            if len(self.seen) <= self.ignore:
                continue
            r = dns.message.make_response(m)
            self.sock.sendto(r.to_wire(), addr)
            self.answered.append(m)

    def close(self):
        self.stop = True
        self.t.join(timeout=5)
        self.sock.close()


def test_reload_command_and_notify(tmp_path):
    listener = NotifyListener(ignore=1)
    out = tmp_path / "reload args"
    script = tmp_path / "reload.sh"
    script.write_text('#!/bin/sh\nprintf "%%s|" "$@" >> "%s"\n' % out)
    script.chmod(0o755)
    s = Setup(tmp_path, [A], extra='publish = { reload_command = "%s %%z %%f 100%%%%"; '
              'reload_timeout = "5s"; notify = [ "127.0.0.1@%d" ]; };'
              % (script, listener.port))
    s.write_zone(A, SIMPLE.format(origin=A))
    d = Daemon(s)
    try:
        d.wait_ready()
        line = wait_for(lambda: out.exists() and out.read_text(), what="the reload command")
        assert line == "%s|%s|100%%|" % (A, s.output_file(A))
        wait_for(lambda: len(listener.seen) >= 2, what="a retried NOTIFY")
        m = listener.seen[0]
        assert m.opcode() == dns.opcode.NOTIFY
        assert str(m.question[0].name) == A and m.question[0].rdtype == 6  # SOA
        wait_for(lambda: "NOTIFY to 127.0.0.1@%d acknowledged" % listener.port in d.log_text(),
                 what="the NOTIFY acknowledged")
    finally:
        d.close()
        listener.close()


def test_failing_and_hanging_reload_commands_are_reported(tmp_path):
    script = tmp_path / "hang.sh"
    script.write_text("#!/bin/sh\nsleep 30\n")
    script.chmod(0o755)
    s = Setup(tmp_path, [A], extra='publish = { reload_command = "%s"; reload_timeout = "1s"; };'
              % script)
    s.write_zone(A, SIMPLE.format(origin=A))
    d = Daemon(s)
    try:
        d.wait_ready()
        wait_for(lambda: "timed out, killing it" in d.log_text(), what="the timeout")
        wait_for(lambda: "killed by signal 9" in d.log_text(), what="the kill reported")
    finally:
        d.close()
    s.write_config([A], {"default": {"nameservers": '[ "ns1.example.net." ]'}},
                   extra='api = { socket = "%s"; };\npublish = { reload_command = "/bin/false"; };'
                   % s.api_socket)
    with open(s.input_file(A), "a") as f:
        f.write("x IN A 192.0.2.9\n")
    d = Daemon(s)
    try:
        d.wait_ready()
        wait_for(lambda: "exited with status 1" in d.log_text(), what="the exit status")
    finally:
        d.close()


def test_reload_commands_do_not_pile_up(tmp_path):
    """A slow reload command and a burst of publications: one runs per zone at a time,
    the burst coalesces into one more run, and that run sees the last publication."""
    log = tmp_path / "reloads"
    script = tmp_path / "reload.sh"
    script.write_text('#!/bin/sh\necho "start $(head -1 "$1" | cut -d" " -f5)" >> "%s"\n'
                      'sleep 1\necho end >> "%s"\n' % (log, log))
    script.chmod(0o755)
    s = Setup(tmp_path, [A], extra='publish = { reload_command = "%s %%f"; '
              'reload_timeout = "10s"; };' % script)
    s.write_zone(A, SIMPLE.format(origin=A))
    d = Daemon(s)
    try:
        d.wait_ready()
        wait_for(lambda: log.exists() and "end" in log.read_text(), what="the first reload")
        serials = []
        for i in range(8):
            code, j = d.api("/v1/zones/%s/records?wait=published" % A, "POST",
                            '{"name":"b%d","type":"A","content":"192.0.2.%d"}' % (i, i))
            assert code == 201, j
            serials.append(j["serial"])
        wait_for(lambda: log.read_text().count("start") == log.read_text().count("end") and
                 str(serials[-1]) in log.read_text(), timeout=20,
                 what="the last publication reloaded")
        lines = log.read_text().split()
    finally:
        d.close()
    # never two at once: start and end alternate
    events = [w for w in lines if w in ("start", "end")]
    assert events == ["start", "end"] * (len(events) // 2), lines
    # 8 publications within a second or two: far fewer runs (the first, one for the burst
    # while it ran, perhaps one more)
    assert 2 <= events.count("start") <= 4, lines


# ---------------------------------------------------------------- retries, status, restart

SPEED = 60   # the fake clock's seconds per real second: hook retries (2 s, doubling) go fast


def fake_clock():
    return {"ZONEKEEPER_FAKE_TIME": "%d@%d" % (int(time.time()), SPEED)}


def metric(d, name, **labels):
    """The value of one series of /metrics (None if absent)."""
    p = run(["curl", "-sS", "--unix-socket", str(d.api_socket), "http://zonekeeper/metrics" +
             labels.pop("query", "")])
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    for line in p.stdout.splitlines():
        m = re.match(r"^%s(?:\{(.*)\})? (\S+)$" % re.escape(name), line)
        if m and ",".join(sorted((m.group(1) or "").split(","))) == want:
            return float(m.group(2))
    return None


def hooks_of(d):
    return d.zone(A)["hooks"]


def test_notify_is_retried_beyond_five_tries_until_acknowledged(tmp_path):
    """A secondary that drops the first 7 NOTIFYs: the daemon keeps trying with backoff
    (2, 4, 8... s of zone time), the failures show in the status and /metrics meanwhile,
    and once one is acknowledged no more are sent and the status clears."""
    listener = NotifyListener(ignore=7)
    s = Setup(tmp_path, [A], extra='publish = { notify = [ "127.0.0.1@%d" ]; };'
              % listener.port)
    s.write_zone(A, SIMPLE.format(origin=A))
    d = Daemon(s, env=fake_clock())
    try:
        d.wait_ready()
        h = wait_for(lambda: (lambda h: h if h["failures"] >= 2 else None)(hooks_of(d)["notify"]),
                     what="NOTIFY failures in the status")
        assert h["pending"] == 1 and h["retry_at"], h
        assert "was not answered" in h["last_error"] and "127.0.0.1@%d" % listener.port \
            in h["last_error"], h
        assert hooks_of(d)["reload"] is None
        assert metric(d, "zonekeeper_hook_failures_total", zone=A, hook="notify") >= 2
        assert metric(d, "zonekeeper_hooks_failing", hook="notify") == 1
        # the zone needs attention while its NOTIFY fails
        assert metric(d, "zonekeeper_zone_serial", zone=A, query="?zones=attention")
        wait_for(lambda: listener.answered, timeout=30, what="the 8th NOTIFY answered")
        h = wait_for(lambda: (lambda h: h if h["pending"] == 0 else None)(hooks_of(d)["notify"]),
                     what="the NOTIFY acknowledged")
        assert h["failures"] == 0 and h["last_error"] is None and h["retry_at"] is None, h
        assert h["failures_total"] == 7 and h["last_success"], h
        assert "NOTIFY to 127.0.0.1@%d acknowledged (try 8)" % listener.port in d.log_text()
        assert metric(d, "zonekeeper_hooks_failing", hook="notify") == 0
        assert metric(d, "zonekeeper_zone_serial", zone=A, query="?zones=attention") is None
        # acknowledged: nothing more is sent (the next retry would have come within 5 s)
        time.sleep(256.0 / SPEED + 1)
        assert len(listener.seen) == 8, len(listener.seen)
        assert all(m.id == listener.seen[0].id for m in listener.seen)
    finally:
        d.close()
        listener.close()


def test_a_newer_publication_replaces_the_pending_notify(tmp_path):
    """While a secondary is silent, each publication replaces the zone's pending NOTIFY
    (one per zone and target): the older one is not retried any more; the newer one is,
    until the secondary answers it."""
    listener = NotifyListener(ignore=10**6)
    s = Setup(tmp_path, [A], extra='publish = { notify = [ "127.0.0.1@%d" ]; };'
              % listener.port)
    s.write_zone(A, SIMPLE.format(origin=A))
    d = Daemon(s, env=fake_clock())
    try:
        d.wait_ready()
        wait_for(lambda: hooks_of(d)["notify"]["failures"] >= 2, what="a retried NOTIFY")
        first = listener.seen[0].id
        code, j = d.api("/v1/zones/%s/records?wait=published" % A, "POST",
                        '{"name":"b","type":"A","content":"192.0.2.8"}')
        assert code == 201, j
        n = len(listener.seen)
        wait_for(lambda: len(listener.seen) >= n + 2, what="the newer NOTIFY retried")
        after = listener.seen[n:]
        assert all(m.id != first for m in after), "the replaced NOTIFY was sent again"
        assert len({m.id for m in after}) == 1, [m.id for m in after]
        h = hooks_of(d)["notify"]
        assert h["pending"] == 1 and h["failures"] >= 1, h
        # the secondary answers now: the newer serial's NOTIFY is acknowledged
        listener.ignore = 0
        wait_for(lambda: hooks_of(d)["notify"]["pending"] == 0, timeout=30,
                 what="the NOTIFY acknowledged")
        assert listener.answered[-1].id == after[0].id
        assert hooks_of(d)["notify"]["failures"] == 0
    finally:
        d.close()
        listener.close()


def failing_reload(tmp_path):
    """A reload command that fails until a flag file exists; it logs each run."""
    flag, log = tmp_path / "server-up", tmp_path / "reloads"
    script = tmp_path / "reload.sh"
    script.write_text('#!/bin/sh\necho "$1" >> "%s"\n[ -e "%s" ] || { echo down >&2; exit 3; }\n'
                      % (log, flag))
    script.chmod(0o755)
    return script, flag, log


def runs(log):
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_a_failing_reload_command_is_shown_and_retried_until_it_succeeds(tmp_path):
    script, flag, log = failing_reload(tmp_path)
    s = Setup(tmp_path, [A], extra='publish = { reload_command = "%s %%z"; };' % script)
    s.write_zone(A, SIMPLE.format(origin=A))
    d = Daemon(s, env=fake_clock())
    try:
        d.wait_ready()
        h = wait_for(lambda: (lambda h: h if h["failures"] >= 3 else None)(hooks_of(d)["reload"]),
                     what="reload failures in the status")
        assert "exited with status 3" in h["last_error"] and str(script) in h["last_error"], h
        assert h["retry_at"] and h["pending"] == 1 and h["last_success"] is None, h
        assert hooks_of(d)["notify"] is None
        assert d.zone(A)["state"] == "ok"   # the zone itself is signed and published
        assert metric(d, "zonekeeper_hook_failures_total", zone=A, hook="reload") >= 3
        assert metric(d, "zonekeeper_hook_consecutive_failures", zone=A, hook="reload") >= 3
        assert metric(d, "zonekeeper_hooks_failing", hook="reload") == 1
        assert metric(d, "zonekeeper_zone_serial", zone=A, query="?zones=attention")
        assert (s.state / "zones" / "example.com" / "reload.owed").exists()
        # the server is back: the next retry succeeds and the status clears
        flag.touch()
        h = wait_for(lambda: (lambda h: h if h["failures"] == 0 else None)(hooks_of(d)["reload"]),
                     timeout=30, what="the retry that succeeds")
        assert h["last_error"] is None and h["retry_at"] is None and h["last_success"], h
        assert h["pending"] == 0 and h["failures_total"] >= 3, h
        assert "the reload command succeeded after" in d.log_text()
        assert metric(d, "zonekeeper_hooks_failing", hook="reload") == 0
        assert metric(d, "zonekeeper_zone_serial", zone=A, query="?zones=attention") is None
        assert not (s.state / "zones" / "example.com" / "reload.owed").exists()
        # and it is not retried any more
        n = runs(log)
        time.sleep(600.0 / SPEED)
        assert runs(log) == n
    finally:
        d.close()


def test_a_restart_runs_a_reload_command_that_had_not_succeeded(tmp_path):
    """The daemon stops while the reload command fails: the next start (nothing to
    publish) runs it again; once it succeeded, a restart does not."""
    script, flag, log = failing_reload(tmp_path)
    s = Setup(tmp_path, [A], extra='publish = { reload_command = "%s %%z"; };' % script)
    s.write_zone(A, SIMPLE.format(origin=A))
    owed = s.state / "zones" / "example.com" / "reload.owed"
    d = Daemon(s)
    try:
        d.wait_ready()
        wait_for(lambda: hooks_of(d)["reload"]["failures"] >= 1, what="a failed reload")
        serial = d.zone(A)["serial"]
    finally:
        d.close()
    assert owed.exists()
    flag.touch()
    n = runs(log)
    d = Daemon(s)
    try:
        d.wait_ready()
        assert d.zone(A)["serial"] == serial   # unchanged: nothing published
        wait_for(lambda: runs(log) == n + 1, what="the reload command run at start")
        wait_for(lambda: hooks_of(d)["reload"]["last_success"], what="its success")
        assert "had not succeeded before the restart" in d.log_text()
        wait_for(lambda: not owed.exists(), what="the mark removed")
    finally:
        d.close()
    n = runs(log)
    d = Daemon(s)
    try:
        d.wait_ready()
        time.sleep(0.5)
        assert runs(log) == n, "a reload command that had succeeded ran again at start"
        assert hooks_of(d)["reload"]["last_success"] is None
    finally:
        d.close()
