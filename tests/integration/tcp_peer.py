#!/usr/bin/env python3
"""Linux end of the Orion kernel's TCP bulk transfers (kernel_tcp_tap.sh).

Byte i of every stream is i mod 251, as in the kernel's `tcp` command
(kernel/net/tcp_cmd.c).

  tcp_peer.py send --host IP --port P --bytes N   connect to the kernel's
      `tcp recv P`, send N bytes of the pattern, close our side, wait for
      the kernel's FIN.
  tcp_peer.py recv --bind IP --port P --bytes N [--ready FILE]   listen,
      accept one connection (the kernel's `tcp send`), receive until EOF,
      check every byte; FILE is created once listening.  With
      --mark-at M --mark FILE2 --resume FILE3: a 256 KiB receive buffer (no
      autotuning), and once M bytes arrived FILE2 is created and reading
      stops until FILE3 exists, so the sender stalls with bytes left while
      the test interrupts the path (to force retransmissions on timeout).
  tcp_peer.py refused --host IP --port P   a connect to a port nobody
      listens on must be refused (the kernel answers the SYN with RST).
  tcp_peer.py udpecho --host IP --port 7 --sizes 1473,4000,8972   one
      datagram of random bytes per size to the kernel's UDP echo service;
      each echo must come back identical (a lost one is retried 5 times).
  tcp_peer.py badcsum --src IP --host IP --port P   send one SYN with a
      wrong TCP checksum through a raw socket (root): the kernel must drop
      it without an answer (its tcp stats count it).

Prints one line "tcp_peer: ..." with bytes, seconds, Mbit/s and the first
mismatch.  Exit 0 when exactly N bytes arrived (or were sent and the peer
closed) and every byte matched, 1 otherwise; every wait is bounded by
--timeout (seconds, default 60).
"""
import argparse
import os
import socket
import struct
import sys
import time

MOD = 251
BLOCK = bytes(range(MOD)) * 1100  # > 256 KiB, a whole number of periods
CHUNK = 256 * 1024


def pattern(off, n):
    """n bytes of the stream from offset off (n <= CHUNK)."""
    s = off % MOD
    return BLOCK[s:s + n]


def rate(nbytes, secs):
    return nbytes * 8 / secs / 1e6 if secs > 0 else 0.0


def do_send(a):
    deadline = time.monotonic() + a.timeout
    s = None
    # The kernel prints "listening" before it can take the SYN, but retry a
    # refused connect a few times anyway.
    while True:
        try:
            s = socket.create_connection((a.host, a.port), timeout=a.timeout)
            break
        except (ConnectionRefusedError, socket.timeout, OSError) as e:
            if time.monotonic() > deadline:
                print(f"tcp_peer: FAIL connect {a.host}:{a.port}: {e}")
                return 1
            time.sleep(0.2)
    t0 = time.monotonic()
    off = 0
    try:
        while off < a.bytes:
            n = min(CHUNK, a.bytes - off)
            s.sendall(pattern(off, n))
            off += n
        s.shutdown(socket.SHUT_WR)
        # The kernel closes once it has our FIN: wait for its FIN (EOF).
        while True:
            d = s.recv(65536)
            if not d:
                break
            print(f"tcp_peer: FAIL the kernel sent {len(d)} unexpected bytes")
            return 1
    except OSError as e:
        print(f"tcp_peer: FAIL send after {off} bytes: {e}")
        return 1
    dt = time.monotonic() - t0
    print(f"tcp_peer: sent {off} bytes to {a.host}:{a.port} in {dt:.3f} s, {rate(off, dt):.2f} Mbit/s, "
          "peer closed")
    return 0


def do_recv(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.mark:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
    ls.bind((a.bind, a.port))
    ls.listen(1)
    ls.settimeout(a.timeout)
    if a.ready:
        open(a.ready, "w").close()
    try:
        c, peer = ls.accept()
    except socket.timeout:
        print(f"tcp_peer: FAIL no connection to {a.bind}:{a.port} within {a.timeout} s")
        return 1
    c.settimeout(a.timeout)
    t0 = time.monotonic()
    got = 0
    first = None
    wrong = 0
    marked = not a.mark
    try:
        while True:
            d = c.recv(CHUNK)
            if not d:
                break
            exp = pattern(got, len(d))
            if d != exp:
                for i, (x, y) in enumerate(zip(d, exp)):
                    if x != y:
                        if first is None:
                            first = (got + i, x, y)
                        wrong += 1
            got += len(d)
            if not marked and got >= a.mark_at:
                open(a.mark, "w").close()
                marked = True
                end = time.monotonic() + a.timeout
                while a.resume and not os.path.exists(a.resume):
                    if time.monotonic() > end:
                        print(f"tcp_peer: FAIL {a.resume} did not appear within {a.timeout} s")
                        return 1
                    time.sleep(0.01)
    except OSError as e:
        print(f"tcp_peer: FAIL receive after {got} bytes: {e}")
        return 1
    dt = time.monotonic() - t0
    c.close()
    mm = "none" if first is None else f"byte {first[0]}: got {first[1]} expected {first[2]} ({wrong} wrong)"
    ok = first is None and got == a.bytes
    print(f"tcp_peer: {'' if ok else 'FAIL '}received {got} of {a.bytes} bytes from {peer[0]}:{peer[1]} "
          f"in {dt:.3f} s, {rate(got, dt):.2f} Mbit/s, first mismatch {mm}")
    return 0 if ok else 1


def do_refused(a):
    try:
        s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    except ConnectionRefusedError:
        print(f"tcp_peer: connect to {a.host}:{a.port} refused (RST), as expected")
        return 0
    except OSError as e:
        print(f"tcp_peer: FAIL connect to {a.host}:{a.port}: {e} (expected a refusal)")
        return 1
    s.close()
    print(f"tcp_peer: FAIL connect to {a.host}:{a.port} succeeded (expected a refusal)")
    return 1


def do_udpecho(a):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1.0)
    for n in [int(x) for x in a.sizes.split(",")]:
        data = os.urandom(n)
        for _ in range(5):
            u.sendto(data, (a.host, a.port))
            try:
                got, _src = u.recvfrom(65536)
            except socket.timeout:
                continue
            if got != data:
                print(f"tcp_peer: FAIL udp echo of {n} bytes came back as {len(got)} different bytes")
                return 1
            print(f"tcp_peer: udp echo of {n} bytes intact")
            break
        else:
            print(f"tcp_peer: FAIL no udp echo of {n} bytes after 5 tries")
            return 1
    return 0


def csum16(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def do_badcsum(a):
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.host)
    hdr = struct.pack("!HHIIBBHHH", 40000, a.port, 12345, 0, 5 << 4, 0x02, 65535, 0, 0)
    good = csum16(src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(hdr)) + hdr)
    bad = good ^ 0x5A5A
    hdr = hdr[:16] + struct.pack("!H", bad) + hdr[18:]
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    r.sendto(hdr, (a.host, 0))
    r.close()
    print(f"tcp_peer: sent a SYN to {a.host}:{a.port} with checksum {bad:#06x} (right: {good:#06x})")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="mode", required=True)
    ps = sub.add_parser("send")
    ps.add_argument("--host", required=True)
    pr = sub.add_parser("recv")
    pr.add_argument("--bind", required=True)
    pr.add_argument("--ready")
    pr.add_argument("--mark")
    pr.add_argument("--mark-at", type=int, default=0)
    pr.add_argument("--resume")
    pf = sub.add_parser("refused")
    pf.add_argument("--host", required=True)
    pb = sub.add_parser("badcsum")
    pb.add_argument("--host", required=True)
    pb.add_argument("--src", required=True)
    pu = sub.add_parser("udpecho")
    pu.add_argument("--host", required=True)
    pu.add_argument("--sizes", required=True)
    for q in (ps, pr, pf, pb, pu):
        q.add_argument("--port", type=int, required=True)
        q.add_argument("--timeout", type=float, default=60.0)
    for q in (ps, pr):
        q.add_argument("--bytes", type=int, required=True)
    a = p.parse_args()
    return {"send": do_send, "recv": do_recv, "refused": do_refused, "badcsum": do_badcsum, "udpecho": do_udpecho}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
