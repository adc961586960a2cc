#!/usr/bin/env python3
"""Host side of kernel_link_flap.sh --fast (the soak): many link flaps
with one QMP connection and one UDP socket, judged from the console log
and the echo, without a shell command per flap.

  link_flap_fast.py --qmp SOCK --log LOG --port P --flaps N
                    [--nic nic0] [--dev vnet0] [--down-check-every K]

Per flap:
  - QMP set_link NIC off; the kernel must log "DEV: link down" (one more
    such line than before; 10 s bound);
  - every K-th flap (default 10): a datagram sent to the echo port must
    get no reply within 0.2 s;
  - QMP set_link NIC on; the kernel must log "DEV: link up" and a fresh
    datagram (resent every 10 ms, each with its own payload) must come
    back intact; the time from set_link on returning to that echo is the
    flap's recovery time (10 s bound).
Prints a line per failed flap (the first 20), then one summary line:
  link_flap_fast: N flaps, F failed; recovery median A ms p99 B ms max C ms
Exit 0 when no flap failed, 1 otherwise, 2 on a set-up error.
"""
import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from qmp import Qmp  # noqa: E402


class Console:
    """Counts the kernel's link lines in the growing console log."""

    def __init__(self, path, dev):
        self.f = open(path, "rb")
        self.down = self.up = 0
        self.rest = b""
        self.pat_down = ("%s: link down" % dev).encode()
        self.pat_up = ("%s: link up" % dev).encode()
        self.poll()

    def poll(self):
        data = self.rest + self.f.read()
        lines = data.split(b"\n")
        self.rest = lines.pop()
        for ln in lines:
            if self.pat_down in ln:
                self.down += 1
            elif self.pat_up in ln:
                self.up += 1

    def wait(self, what, count, secs):
        end = time.monotonic() + secs
        while True:
            self.poll()
            if getattr(self, what) >= count:
                return True
            if time.monotonic() > end:
                return False
            time.sleep(0.001)


def echo(s, payload, secs, step):
    """Send payload every step s until it comes back intact; the time of
    the reply, or None after secs.  Replies to earlier payloads are ignored."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            s.send(payload)
        except ConnectionRefusedError:
            pass
        t_step = time.monotonic() + step
        while True:
            left = min(t_step, end) - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                if s.recv(4096) == payload:
                    return time.monotonic()
            except socket.timeout:
                break
            except ConnectionRefusedError:
                continue
    return None


def pct(v, p):
    return v[min(len(v) - 1, int(len(v) * p))] if v else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qmp", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--flaps", type=int, required=True)
    ap.add_argument("--nic", default="nic0")
    ap.add_argument("--dev", default="vnet0")
    ap.add_argument("--down-check-every", type=int, default=10)
    a = ap.parse_args()
    try:
        q = Qmp(a.qmp)
        con = Console(a.log, a.dev)
    except OSError as e:
        print("link_flap_fast: set-up error: %s" % e)
        return 2
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", a.port))
    if echo(s, b"flap-probe", 30, 0.1) is None:
        print("link_flap_fast: FAIL no echo before the first flap")
        return 1
    fails, rec = 0, []
    for i in range(1, a.flaps + 1):
        why = []
        q.events.clear()  # QEMU's asynchronous events are not looked at
        q.cmd("set_link", {"name": a.nic, "up": False})
        if not con.wait("down", con.down + 1, 10):
            why.append("link-down-not-logged")
        if a.down_check_every and i % a.down_check_every == 0:
            if echo(s, b"down-%d" % i, 0.2, 0.2) is not None:
                why.append("echo-while-down")
        up0 = con.up
        q.cmd("set_link", {"name": a.nic, "up": True})
        t_on = time.monotonic()
        if not con.wait("up", up0 + 1, 10):
            why.append("link-up-not-logged")
        t = echo(s, b"up-%d" % i, 10, 0.01)
        if t is None:
            why.append("no-echo-after-up")
        else:
            rec.append((t - t_on) * 1000)
        if why:
            fails += 1
            if fails <= 20:
                print("link_flap_fast: flap %d FAILED: %s" % (i, " ".join(why)))
        if i % 1000 == 0:
            print("link_flap_fast: %d flaps, %d failed so far" % (i, fails), flush=True)
    rec.sort()
    print("link_flap_fast: %d flaps, %d failed; recovery median %.1f ms p99 %.1f ms max %.1f ms over %d" %
          (a.flaps, fails, pct(rec, 0.5), pct(rec, 0.99), rec[-1] if rec else 0, len(rec)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
