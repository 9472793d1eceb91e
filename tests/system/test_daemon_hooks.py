# SPDX-License-Identifier: MIT
"""After each publication: the reload command runs without a shell (arguments stay whole),
and DNS NOTIFY reaches every configured address and is retried until answered."""
import socket
import threading

import dns.message
import dns.opcode
import dns.rcode

from zktest.daemon import Daemon, wait_for
from zktest.tools import Setup
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
