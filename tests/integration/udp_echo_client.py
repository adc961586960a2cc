#!/usr/bin/env python3
"""Host side of kernel_udp_echo: drive the Orion kernel's UDP echo service.

Sends every payload size 1..1472 at least once (shuffled; more random sizes
until --count datagrams; a --count below 1472 sends that many sizes spread
evenly over 1..1472 instead, both ends included), each with random bytes, one at a time to
127.0.0.1:PORT (QEMU hostfwd to the guest's port 7), and waits for the echo.
A lost datagram or echo is retried (user-mode networking may drop under
load) up to --retries times; every datagram must finally come back with
identical bytes.  A late echo of an earlier datagram is recognised and
ignored (counted); any other unexpected bytes are corruption and fail the
run.  At the end the stop datagram ends the kernel's echo service.

Exit 0 when every datagram was echoed intact, 1 otherwise.
"""
import argparse
import os
import random
import socket
import sys
import time

STOP = b"ORION-ECHO-STOP"
MAX_PAYLOAD = 1472


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=1500)
    ap.add_argument("--retries", type=int, default=20)
    ap.add_argument("--reply-timeout", type=float, default=0.5)
    ap.add_argument("--ready-timeout", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--no-stop", action="store_true")
    a = ap.parse_args()

    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    if a.count >= MAX_PAYLOAD:
        sizes = list(range(1, MAX_PAYLOAD + 1))
        while len(sizes) < a.count:
            sizes.append(rng.randint(1, MAX_PAYLOAD))
    else:
        # Fewer datagrams than sizes (slow emulated targets): spread them
        # evenly over 1..1472, both ends included.
        n = max(a.count, 2)
        sizes = [1 + (i * (MAX_PAYLOAD - 1)) // (n - 1) for i in range(n)]
    rng.shuffle(sizes)
    print(f"udp_echo: seed {seed}, {len(sizes)} datagrams, sizes 1..{MAX_PAYLOAD}, port {a.port}")

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", a.port))
    dst = ("127.0.0.1", a.port)

    # First contact: the guest must answer slirp's ARP before anything
    # flows; keep probing until the first echo or the ready timeout.
    probe = b"orion-probe"
    deadline = time.time() + a.ready_timeout
    s.settimeout(0.5)
    ready = False
    while time.time() < deadline and not ready:
        s.send(probe)
        try:
            while True:
                if s.recv(4096) == probe:
                    ready = True
                    break
        except (socket.timeout, ConnectionRefusedError):
            pass
    if not ready:
        print("udp_echo: FAIL no echo of the probe datagram within %.0fs" % a.ready_timeout)
        return 1

    sent_total = retries = late = corrupt = lost = 0
    done = set()          # payloads already echoed (to recognise late duplicates)
    t0 = time.time()
    rtts = []
    s.settimeout(a.reply_timeout)
    for i, size in enumerate(sizes):
        payload = rng.randbytes(size) if hasattr(rng, "randbytes") else bytes(rng.getrandbits(8) for _ in range(size))
        ok = False
        for attempt in range(a.retries + 1):
            if attempt:
                retries += 1
            t_send = time.time()
            s.send(payload)
            sent_total += 1
            end = t_send + a.reply_timeout
            while True:
                left = end - time.time()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    data = s.recv(4096)
                except socket.timeout:
                    break
                except ConnectionRefusedError:
                    continue
                if data == payload:
                    ok = True
                    rtts.append(time.time() - t_send)
                    break
                if data in done or data == probe:
                    late += 1
                    continue
                corrupt += 1
                print(f"udp_echo: CORRUPT echo for datagram #{i} (size {size}): got {len(data)} bytes, "
                      f"first differing byte at {next((k for k in range(min(len(data), size)) if data[k] != payload[k]), min(len(data), size))}")
            if ok:
                break
        if not ok:
            lost += 1
            print(f"udp_echo: datagram #{i} (size {size}) never echoed after {a.retries + 1} attempts")
        else:
            done.add(payload)
    secs = time.time() - t0
    rtts.sort()
    med = rtts[len(rtts) // 2] * 1e6 if rtts else 0
    print(f"udp_echo: {len(sizes)} datagrams, {len(sizes) - lost} echoed intact, {lost} lost, {corrupt} corrupt, "
          f"{retries} retries, {late} late duplicates, {sent_total} sent, {secs:.1f}s, median rtt {med:.0f} us")
    if not a.no_stop:
        # Sent up to 3 times in case one is lost; a kernel that stops at
        # the first may be gone before the next (a fast guest exits within
        # 50 ms), and the host then refuses the send: that is success.
        for _ in range(3):
            try:
                s.send(STOP)
            except ConnectionRefusedError:
                break
            time.sleep(0.05)
    if lost or corrupt:
        print("udp_echo: FAIL")
        return 1
    print("udp_echo: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
