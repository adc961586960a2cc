#!/usr/bin/env python3
"""Peer of kernel_rss_hash.sh: UDP flows on a TAP toward the Orion kernel's
echo port, each flow's queue predicted by the Toeplitz hash (the one in
vlan_tap_peer.py, not a copy) with an explicit indirection table.

  flows --tap T --mac M --guest-ip G --peer-ip P --flows N --table 0,1,2,3,...
prints "sent Q:N ..." (datagrams per predicted queue, 1 per flow, resends
counted) and exits 1 when a datagram was never echoed.

  hashlog --guest-ip G --peer-ip P --flows N --table ... --types T  < log
reads the kernel's "vnet hashlog" output (one "hash q=Q v=0xH t=TYPE udp
S:SP > D:DP" line per received frame) and checks every record of the
flows' datagrams: the reported hash equals the Toeplitz hash computed here
of the tuple the programmed hash types select (VirtIO 1.2 5.1.6.4.3.1:
UDPv4 hashes addresses and ports when enabled, else IPv4 the addresses),
the type is that one, and the pair is table[hash & (len-1)]; every flow has
at least one record.  Prints a summary; exits 1 on any mismatch.
"""
import argparse
import ipaddress
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vlan_tap_peer as vp  # noqa: E402


def queue(src, dst, sport, dport, table):
    data = ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed + struct.pack("!HH", sport, dport)
    return table[vp.toeplitz(vp.RSS_KEY, data) & (len(table) - 1)]


def hashlog(a):
    table = [int(x) for x in a.table.split(",")]
    types = int(a.types, 0)
    if types & 0x4:      # VIRTIO_NET_RSS_HASH_TYPE_UDPv4
        want_t, ports = "UDPv4", True
    elif types & 0x1:    # VIRTIO_NET_RSS_HASH_TYPE_IPv4
        want_t, ports = "IPv4", False
    else:
        print("hashlog: FAIL hash types %#x hash no IPv4 UDP frame" % types)
        return 1
    sports = {30000 + i * 13 for i in range(a.flows)}
    seen = set()
    bad = []
    n = 0
    for line in sys.stdin:
        f = line.split()
        if len(f) != 8 or f[0] != "hash" or f[4] != "udp":
            continue
        src, sp = f[5].rsplit(":", 1)
        dst, dp = f[7].rsplit(":", 1)
        sp, dp = int(sp), int(dp)
        if src != a.peer_ip or dst != a.guest_ip or dp != 7 or sp not in sports:
            continue
        n += 1
        seen.add(sp)
        q = int(f[1][2:])
        v = int(f[2][2:], 16)
        t = f[3][2:]
        data = ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed
        if ports:
            data += struct.pack("!HH", sp, dp)
        h = vp.toeplitz(vp.RSS_KEY, data)
        wq = table[h & (len(table) - 1)]
        if v != h or t != want_t or q != wq:
            bad.append("%s:%d reported q=%d v=%#010x t=%s, expected q=%d v=%#010x t=%s" %
                       (src, sp, q, v, t, wq, h, want_t))
    missing = sorted(sports - seen)
    print("hashlog: %d records of %d/%d flows checked, %d mismatched" % (n, len(seen), a.flows, len(bad)))
    for b in bad[:10]:
        print("hashlog: FAIL " + b)
    if missing:
        print("hashlog: FAIL %d flows have no record (first source port %d)" % (len(missing), missing[0]))
    return 1 if bad or missing else 0


def flows(a):
    table = [int(x) for x in a.table.split(",")]
    return vp.echo_flows(a, a.pairs, lambda i: 30000 + i * 13,
                         lambda sport: queue(a.peer_ip, a.guest_ip, sport, 7, table),
                         lambda i, j: struct.pack("!H", i) + os.urandom(16))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["flows", "hashlog"])
    ap.add_argument("--tap")
    ap.add_argument("--mac")
    ap.add_argument("--guest-ip")
    ap.add_argument("--peer-ip")
    ap.add_argument("--flows", type=int, default=256)
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--table")
    ap.add_argument("--types", default="0")
    a = ap.parse_args()
    return hashlog(a) if a.cmd == "hashlog" else flows(a)


if __name__ == "__main__":
    sys.exit(main())
