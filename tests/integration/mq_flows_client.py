#!/usr/bin/env python3
"""Host side of kernel_vnet_mq_tap: many UDP flows to the Orion kernel's echo service.

Opens --flows UDP sockets, each bound to --src (the tap's host address)
with its own ephemeral source port, and sends --per-flow datagrams on each
to --dst:7 (the guest), one at a time, waiting for every echo (retried on
loss).  Distinct source ports make distinct flows: a multi-queue tap
device picks the queue of a new flow from its hash, so with enough flows
both of the guest's receive queues see traffic.  Ends with the stop
datagram, which makes the kernel print its counters and exit.

Only --dst is ever sent to (the caller passes the guest's address on the
private tap subnet).  Exit 0 when every datagram came back intact, 1
otherwise.
"""
import argparse
import os
import socket
import sys
import time

STOP = b"ORION-ECHO-STOP"


def echo_once(s, payload, retries, timeout):
    s.settimeout(timeout)
    for _ in range(retries + 1):
        s.send(payload)
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                if s.recv(2048) == payload:
                    return True
        except socket.timeout:
            pass
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, default=7)
    ap.add_argument("--flows", type=int, default=32)
    ap.add_argument("--per-flow", type=int, default=4)
    ap.add_argument("--retries", type=int, default=10)
    ap.add_argument("--ready-timeout", type=float, default=60.0)
    a = ap.parse_args()

    socks = []
    for _ in range(a.flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a.src, 0))
        s.connect((a.dst, a.port))
        socks.append(s)

    # First contact: ARP and the echo service must be up.
    deadline = time.time() + a.ready_timeout
    while time.time() < deadline:
        if echo_once(socks[0], b"orion-mq-probe", 0, 0.5):
            break
    else:
        print("mq_flows: FAIL no echo of the probe within %.0fs" % a.ready_timeout)
        return 1

    ok = bad = 0
    for i in range(a.per_flow):
        for f, s in enumerate(socks):
            payload = b"flow %d seq %d " % (f, i) + os.urandom(32 + f)
            if echo_once(s, payload, a.retries, 0.5):
                ok += 1
            else:
                bad += 1
    print("mq_flows: %d flows x %d datagrams: %d echoed intact, %d lost"
          % (a.flows, a.per_flow, ok, bad))
    socks[0].send(STOP)
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
