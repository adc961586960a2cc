#!/usr/bin/env python3
"""TCP bulk transfer with every byte checked, for the vnetd tests.

  tcp_bulk.py recv --bind IP --port P --bytes N [--ready FILE] [--timeout S]
  tcp_bulk.py send --dst IP --port P --bytes N [--timeout S]

IP may be IPv4 or IPv6.

Byte i of the stream is i mod 251 (the convention of the Orion kernel's
`tcp send`/`tcp recv`, so a prime period catches shifted, repeated or
dropped segments).  The receiver accepts one connection, reads until the
sender closes, and checks every byte and the total.  It prints one line
"recv: bytes=N expected=N mismatches=0 first_mismatch=-1 seconds=S mbit_s=R"
and exits 0 only when all N bytes arrived intact and no more.  The sender
prints "send: bytes=N seconds=S" and exits 0 when everything was written and
the connection closed cleanly.

Both ends only ever talk to the address given (a namespace the test made).
--timeout bounds every socket operation (a hang is a failure, not a wait).
"""
import argparse
import socket
import sys
import time

PERIOD = 251
CHUNK = 65536


def pattern_block():
    # One period-aligned block: slicing it at offset (i % PERIOD) gives the
    # bytes from stream position i on.
    base = bytes(range(PERIOD))
    return base * ((CHUNK + 2 * PERIOD) // PERIOD + 1)


BLOCK = pattern_block()


def expected(pos, n):
    o = pos % PERIOD
    return BLOCK[o:o + n]


def do_recv(a):
    family = socket.AF_INET6 if ":" in a.bind else socket.AF_INET
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(1)
    ls.settimeout(a.timeout)
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("listening\n")
    c, _ = ls.accept()
    c.settimeout(a.timeout)
    t0 = time.monotonic()
    pos = 0
    mismatches = 0
    first = -1
    while True:
        buf = c.recv(CHUNK)
        if not buf:
            break
        n = len(buf)
        if pos + n <= a.bytes:
            exp = expected(pos, n)
        else:
            exp = expected(pos, max(0, a.bytes - pos)) + b"\x00" * (pos + n - max(pos, a.bytes))
        if buf != exp:
            for i in range(n):
                if pos + i >= a.bytes or buf[i] != exp[i]:
                    mismatches += 1
                    if first < 0:
                        first = pos + i
        pos += n
    dt = time.monotonic() - t0
    c.close()
    ls.close()
    rate = pos * 8 / dt / 1e6 if dt > 0 else 0.0
    print("recv: bytes=%d expected=%d mismatches=%d first_mismatch=%d seconds=%.2f mbit_s=%.1f"
          % (pos, a.bytes, mismatches, first, dt, rate), flush=True)
    return 0 if pos == a.bytes and mismatches == 0 else 1


def do_send(a):
    s = socket.create_connection((a.dst, a.port), timeout=a.timeout)
    s.settimeout(a.timeout)
    t0 = time.monotonic()
    pos = 0
    while pos < a.bytes:
        n = min(CHUNK, a.bytes - pos)
        s.sendall(expected(pos, n))
        pos += n
    s.shutdown(socket.SHUT_WR)
    # Wait for the receiver's close: every byte was taken.
    s.recv(1)
    s.close()
    print("send: bytes=%d seconds=%.2f" % (pos, time.monotonic() - t0), flush=True)
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["send", "recv"])
    p.add_argument("--bind", default="0.0.0.0")
    p.add_argument("--dst")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bytes", type=int, required=True)
    p.add_argument("--ready")
    p.add_argument("--timeout", type=float, default=30.0)
    a = p.parse_args()
    try:
        return do_recv(a) if a.role == "recv" else do_send(a)
    except (OSError, socket.timeout) as e:
        print("%s: error: %s" % (a.role, e), flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
