#!/usr/bin/env python3
"""Peer of kernel_rss_hash.sh: UDP flows on a TAP toward the Orion kernel's
echo port, each flow's queue predicted by the Toeplitz hash (the one in
vlan_tap_peer.py, not a copy) with an explicit indirection table.

  flows --tap T --mac M --guest-ip G --peer-ip P --flows N --table 0,1,2,3,...
prints "sent Q:N ..." (datagrams per predicted queue, 1 per flow, resends
counted) and exits 1 when a datagram was never echoed.
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


def flows(a):
    table = [int(x) for x in a.table.split(",")]
    t = vp.Tap(a.tap)
    gmac = bytes.fromhex(a.mac.replace(":", ""))
    sent = [0] * a.pairs
    lost = 0
    for i in range(a.flows):
        sport = 30000 + i * 13
        q = queue(a.peer_ip, a.guest_ip, sport, 7, table)
        data = struct.pack("!H", i) + os.urandom(16)
        for _ in range(3):
            t.send(vp.eth(gmac, 0x0800, vp.ipv4(a.peer_ip, a.guest_ip, 17, vp.udp(a.peer_ip, a.guest_ip, sport, 7, data))))
            sent[q] += 1
            r = t.expect(lambda v, f: vp.etype(f) == 0x0800 and f[23] == 17 and
                         struct.unpack("!H", f[36:38])[0] == sport and f[42:42 + len(data)] == data, 1.0)
            if r is not None:
                break
        else:
            lost += 1
    print("sent " + " ".join("%d:%d" % (q, n) for q, n in enumerate(sent)))
    if lost:
        print("flows: FAIL %d datagrams never echoed" % lost)
    return 1 if lost else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["flows"])
    ap.add_argument("--tap")
    ap.add_argument("--mac")
    ap.add_argument("--guest-ip")
    ap.add_argument("--peer-ip")
    ap.add_argument("--flows", type=int, default=256)
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--table")
    return flows(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
