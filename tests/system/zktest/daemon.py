# SPDX-License-Identifier: MIT
"""zonekeeperd started as a real process for the tests: a NOTIFY_SOCKET the test reads
(READY=1, STATUS=, WATCHDOG=1, RELOADING=1, STOPPING=1), the API reached with curl over
the Unix socket, and bounded waits for events instead of sleeps."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from .tools import BUILD, run

ZONEKEEPERD = BUILD / "zonekeeperd"


def wait_for(pred, timeout=20.0, what="condition", interval=0.05):
    """Poll `pred` until it returns something true, at most `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Daemon:
    def __init__(self, setup, env=None, watchdog_usec=None, debounce_ms=50, args=()):
        self.setup = setup
        # short paths: Unix socket names are limited to 108 bytes
        self.rundir = Path(tempfile.mkdtemp(prefix="zk-"))
        self.notify_path = str(self.rundir / "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.notify.settimeout(0.2)
        self.msgs = []
        # drain the socket all the time, as systemd does: sd_notify blocks on a full queue
        self.lock = threading.Lock()
        self.reading = True
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()
        e = dict(os.environ)
        e["NOTIFY_SOCKET"] = self.notify_path
        e.pop("WATCHDOG_PID", None)
        if watchdog_usec:
            e["WATCHDOG_USEC"] = str(watchdog_usec)
        e.update(env or {})
        self.log_path = setup.root / "zonekeeperd.log"
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([str(ZONEKEEPERD), "--config", str(setup.config),
                                      "--debounce", str(debounce_ms), *args],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e)

    @property
    def api_socket(self):
        return self.setup.api_socket

    def _read_loop(self):
        while self.reading:
            try:
                data = self.notify.recv(4096).decode()
            except (socket.timeout, OSError):
                continue
            with self.lock:
                self.msgs.extend(data.split("\n"))

    def read_notify(self):
        with self.lock:
            return list(self.msgs)

    def wait_notify(self, prefix, timeout=20.0, after=0):
        def seen():
            msgs = self.read_notify()
            return [m for m in msgs[after:] if m.startswith(prefix)]
        return wait_for(seen, timeout, "%s on NOTIFY_SOCKET" % prefix)

    def wait_ready(self, timeout=60.0):
        """READY=1 (at once: the configuration, the state and the API are up), then every
        zone's first run done (GET /v1/health: zones_starting 0)."""
        end = time.monotonic() + timeout
        self.wait_notify("READY=1", timeout)
        wait_for(lambda: self.api("/v1/health")[1]["zones_starting"] == 0,
                 max(end - time.monotonic(), 1.0), "every zone's first run")

    def api(self, path, method="GET", data=None):
        args = ["curl", "-sS", "--max-time", "10", "--unix-socket", str(self.api_socket),
                "-X", method, "-w", "\n%{http_code}"]
        if data is not None:
            args += ["-H", "Content-Type: application/json", "--data-binary", data]
        p = run(args + ["http://zonekeeper" + path], timeout=30)
        assert p.returncode == 0, p.stderr
        body, _, code = p.stdout.rpartition("\n")
        return int(code), (json.loads(body) if body else None)

    def zone(self, name):
        code, j = self.api("/v1/zones/" + name)
        assert code == 200, j
        return j["zone"]

    def wait_zone(self, name, pred, timeout=30.0, what="zone state"):
        return wait_for(lambda: (lambda z: z if pred(z) else None)(self.zone(name)),
                        timeout, what)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode

    def kill9(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def close(self):
        self.stop()
        self.reading = False
        self.reader.join(timeout=5)
        self.log.close()
        self.notify.close()
        shutil.rmtree(self.rundir, ignore_errors=True)

    def log_text(self):
        return self.log_path.read_text()
