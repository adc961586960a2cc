#!/usr/bin/env python3
"""TAP-side peer of kernel_ctrl_rxmode.sh (frames built with vlan_tap_peer.py's helpers).

  send --tap T --dst MAC --src-ip A --dst-ip B --count N [--vid V]
        N UDP frames to MAC (any unicast or multicast address), with an
        802.1Q tag of VLAN V when --vid is given.
  arp --tap T --src-ip A --dst-ip B
        one broadcast ARP request for B; prints the sender MAC of the reply
        ("none" when no reply in 3 s).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vlan_tap_peer as p  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["send", "arp"])
    ap.add_argument("--tap", required=True)
    ap.add_argument("--dst", default="ff:ff:ff:ff:ff:ff")
    ap.add_argument("--src-ip", required=True)
    ap.add_argument("--dst-ip", required=True)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--vid", type=int, default=None)
    a = ap.parse_args()
    t = p.Tap(a.tap)
    if a.what == "send":
        dst = bytes.fromhex(a.dst.replace(":", ""))
        for i in range(a.count):
            t.send(p.eth(dst, 0x0800, p.ipv4(a.src_ip, a.dst_ip, 17, p.udp(a.src_ip, a.dst_ip, 40000 + i, 9, b"kctrl")), a.vid))
        return 0
    t.send(p.eth(b"\xff" * 6, 0x0806, p.arp(1, p.PEER_MAC, a.src_ip, b"\0" * 6, a.dst_ip)))
    want = bytes(__import__("ipaddress").IPv4Address(a.src_ip).packed)
    r = t.expect(lambda vid, f: p.etype(f) == 0x0806 and f[20:22] == b"\0\2" and f[38:42] == want, 3.0)
    if r is None:
        print("none")
        return 1
    print(r[1][22:28].hex(":"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
