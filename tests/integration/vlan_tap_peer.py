#!/usr/bin/env python3
"""Host side of kernel_vlan_tap: raw Ethernet frames on the TAP (AF_PACKET).

The host kernel here has no 8021q module, so tagged frames are built by
hand and sent through a packet socket bound to the tap.  Linux strips a
received VLAN tag into the packet's metadata before packet sockets see
it, so the tag of a frame from the guest is read from PACKET_AUXDATA
(tp_vlan_tci) when it is not inline.

Subcommands (every frame goes to the guest's MAC or broadcast on the tap;
the peer uses a made-up MAC and addresses that exist only on the tap):
  probe    tagged ARP, ICMP echo and UDP echo on --vid, the same untagged
           on the base address, and one frame on --other-vid that must get
           no answer.  One line per check; exit 1 on any failure.
  announce sniff --secs seconds for gratuitous ARPs (sender = target
           address) from the guest: untagged for --base-ip, tagged --vid
           for --vlan-ip.  Prints "ready" once listening.
  flows    --flows UDP flows (distinct source ports) to --guest-ip:7, each
           echo awaited; prints "sent Q:N ..." per receive queue the
           Toeplitz hash (Microsoft's key, the driver's default) with a
           --indir-entry round-robin table over --pairs selects.
  respond  for --secs seconds answer, tagged --vid, ARP requests for
           --vlan-peer and ICMP echo requests to it (the kernel pings the
           peer over its VLAN interface); prints "ready", then what it
           answered.
  pick     the queue for (--src, --dst[, --sport, --dport]) (IPv4 only
           without ports).
"""
import argparse
import ipaddress
import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
PACKET_OUTGOING = 4
PEER_MAC = bytes.fromhex("026b766c616e")  # "kvlan", locally administered

# Microsoft RSS verification key: vnet_net_rss_default()'s key.
RSS_KEY = bytes([
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
])


def toeplitz(key, data):
    kbits = int.from_bytes(key, "big")
    klen = len(key) * 8
    h = 0
    for i in range(len(data) * 8):
        if data[i // 8] & (0x80 >> (i % 8)):
            h ^= (kbits >> (klen - 32 - i)) & 0xffffffff
    return h


def rss_queue(src, dst, sport, dport, pairs, indir):
    data = ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed
    if sport is not None:
        data += struct.pack("!HH", sport, dport)
    h = toeplitz(RSS_KEY, data)
    return (h & (indir - 1)) % pairs


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def eth(dst, etype, payload, vid=None):
    hdr = dst + PEER_MAC
    if vid is not None:
        hdr += struct.pack("!HH", 0x8100, vid)
    return hdr + struct.pack("!H", etype) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, ipaddress.IPv4Address(spa).packed, tha,
                       ipaddress.IPv4Address(tpa).packed)


def ipv4(src, dst, proto, payload, ident=0x4b56):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                    ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def udp(src, dst, sport, dport, data):
    ulen = 8 + len(data)
    pseudo = ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed + struct.pack("!BBH", 0, 17, ulen)
    u = struct.pack("!HHHH", sport, dport, ulen, 0) + data
    c = csum(pseudo + u) or 0xffff
    return u[:6] + struct.pack("!H", c) + u[8:]


def icmp_echo(ident, seq, data):
    m = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


class Tap:
    def __init__(self, name):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        self.s.bind((name, 0))

    def send(self, frame):
        if len(frame) < 60:
            frame += b"\0" * (60 - len(frame))
        self.s.send(frame)

    def recv(self, timeout):
        """(vid or None, untagged frame) of the next frame from the guest, or None."""
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                return None
            data, anc, _, addr = self.s.recvmsg(65600, socket.CMSG_SPACE(32))
            if addr[2] == PACKET_OUTGOING:
                continue  # our own frame
            vid = None
            for lvl, typ, cd in anc:
                if lvl == SOL_PACKET and typ == PACKET_AUXDATA and len(cd) >= 20:
                    status, _, _, _, _, tci = struct.unpack("IIIHHH", cd[:18])
                    if status & TP_STATUS_VLAN_VALID:
                        vid = tci & 0xfff
            if len(data) >= 18 and data[12:14] == b"\x81\x00":
                vid = struct.unpack("!H", data[14:16])[0] & 0xfff
                data = data[:12] + data[16:]
            return vid, data

    def expect(self, match, timeout=2.0):
        """First frame from the guest for which match(vid, frame) is true."""
        end = time.time() + timeout
        while time.time() < end:
            r = self.recv(end - time.time())
            if r is None:
                return None
            if match(*r):
                return r
        return None


def etype(f):
    return struct.unpack("!H", f[12:14])[0]


def probe(a):
    t = Tap(a.tap)
    gmac = bytes.fromhex(a.mac.replace(":", ""))
    bc = b"\xff" * 6
    fails = 0

    def check(name, ok, detail):
        nonlocal fails
        print("vlan_peer: %s %s: %s" % ("ok" if ok else "FAIL", name, detail))
        fails += 0 if ok else 1

    for tag, gip, pip in ((a.vid, a.vlan_ip, a.vlan_peer), (None, a.base_ip, a.base_peer)):
        where = "vlan %d" % tag if tag is not None else "untagged"
        # ARP request (broadcast) -> reply from the guest's MAC with its address.
        t.send(eth(bc, 0x0806, arp(1, PEER_MAC, pip, b"\0" * 6, gip), tag))
        r = t.expect(lambda v, f: etype(f) == 0x0806 and f[20:22] == b"\0\x02" and f[0:6] == PEER_MAC)
        ok = r is not None and r[0] == tag and r[1][22:28] == gmac and \
            r[1][28:32] == ipaddress.IPv4Address(gip).packed
        check("arp " + where, ok, "reply vid %s" % (r[0] if r else "none"))
        # ICMP echo with a recognisable payload.
        data = os.urandom(48)
        t.send(eth(gmac, 0x0800, ipv4(pip, gip, 1, icmp_echo(0x6b76, 1, data)), tag))
        r = t.expect(lambda v, f: etype(f) == 0x0800 and f[23] == 1 and f[34] == 0)
        ok = r is not None and r[0] == tag and r[1][42:] [:len(data)] == data and r[1][38:42] == struct.pack("!HH", 0x6b76, 1)
        check("icmp echo " + where, ok, "reply vid %s" % (r[0] if r else "none"))
        # UDP datagrams to the echo port.
        good = 0
        for i in range(3):
            data = os.urandom(20 + 100 * i)
            t.send(eth(gmac, 0x0800, ipv4(pip, gip, 17, udp(pip, gip, 40000 + i, 7, data)), tag))
            r = t.expect(lambda v, f: etype(f) == 0x0800 and f[23] == 17 and f[34:36] == b"\0\x07")
            if r is not None and r[0] == tag and r[1][42:42 + len(data)] == data and \
                    struct.unpack("!H", r[1][36:38])[0] == 40000 + i:
                good += 1
        check("udp echo " + where, good == 3, "%d of 3 datagrams echoed with the same payload and vid" % good)
    # VLAN not configured: an ARP request and a ping for the VLAN's address.
    t.send(eth(bc, 0x0806, arp(1, PEER_MAC, a.vlan_peer, b"\0" * 6, a.vlan_ip), a.other_vid))
    t.send(eth(gmac, 0x0800, ipv4(a.vlan_peer, a.vlan_ip, 1, icmp_echo(0x6b76, 2, b"x" * 16)), a.other_vid))
    r = t.expect(lambda v, f: v == a.other_vid or (etype(f) in (0x0800, 0x0806) and f[0:6] == PEER_MAC), 1.5)
    check("vlan %d ignored" % a.other_vid, r is None, "answer seen: %s" % ("none" if r is None else "vid %s" % r[0]))
    return 1 if fails else 0


def announce(a):
    t = Tap(a.tap)
    print("ready", flush=True)
    seen = {}
    end = time.time() + a.secs
    while time.time() < end:
        r = t.recv(end - time.time())
        if r is None:
            break
        vid, f = r
        if etype(f) != 0x0806 or f[0:6] != b"\xff" * 6 or len(f) < 42:
            continue
        spa, tpa = f[28:32], f[38:42]
        if spa == tpa:
            k = (vid, str(ipaddress.IPv4Address(spa)))
            seen[k] = seen.get(k, 0) + 1
    want = [(None, a.base_ip), (a.vid, a.vlan_ip)]
    for k, n in sorted(seen.items(), key=str):
        print("announce: vid %s ip %s: %d gratuitous ARP(s)" % (k[0], k[1], n))
    missing = [k for k in want if k not in seen]
    for k in missing:
        print("announce: FAIL no gratuitous ARP for %s (vid %s)" % (k[1], k[0]))
    return 1 if missing else 0


def respond(a):
    t = Tap(a.tap)
    print("ready", flush=True)
    peer = ipaddress.IPv4Address(a.vlan_peer).packed
    n_arp = n_icmp = 0
    end = time.time() + a.secs
    while time.time() < end:
        r = t.recv(end - time.time())
        if r is None:
            break
        vid, f = r
        if vid != a.vid:
            continue
        if etype(f) == 0x0806 and f[20:22] == b"\0\x01" and f[38:42] == peer:
            t.send(eth(f[6:12], 0x0806, arp(2, PEER_MAC, a.vlan_peer, f[22:28],
                                            str(ipaddress.IPv4Address(f[28:32]))), a.vid))
            n_arp += 1
        elif etype(f) == 0x0800 and f[23] == 1 and f[30:34] == peer and f[34] == 8:
            ihl = (f[14] & 15) * 4
            tot = struct.unpack("!H", f[16:18])[0]
            m = bytearray(f[14 + ihl:14 + tot])
            m[0] = 0
            m[2:4] = b"\0\0"
            m[2:4] = struct.pack("!H", csum(bytes(m)))
            t.send(eth(f[6:12], 0x0800, ipv4(a.vlan_peer, str(ipaddress.IPv4Address(f[26:30])), 1, bytes(m)), a.vid))
            n_icmp += 1
    print("respond: answered %d ARP request(s), %d echo request(s) on vlan %d" % (n_arp, n_icmp, a.vid))
    return 0 if n_icmp else 1


def udp_echo(t, gmac, src, dst, sport, data, tries=3):
    """Send one UDP datagram src:sport -> dst:7 through the TAP until its
    echo comes back (1 s per try, at most tries sends); returns (sends, ok)."""
    for n in range(1, tries + 1):
        t.send(eth(gmac, 0x0800, ipv4(src, dst, 17, udp(src, dst, sport, 7, data))))
        r = t.expect(lambda v, f: etype(f) == 0x0800 and f[23] == 17 and
                     struct.unpack("!H", f[36:38])[0] == sport and f[42:42 + len(data)] == data, 1.0)
        if r is not None:
            return n, True
    return tries, False


def echo_flows(a, pairs, sport_of, queue_of, payload_of, per_flow=1):
    """UDP echo (to port 7) of a.flows flows from a.peer_ip through the TAP
    a.tap to the guest (a.mac, a.guest_ip): flow i from source port
    sport_of(i), per_flow datagrams with payload_of(i, j).  Prints the
    frames sent (retries included) per receive queue, queue_of(sport) of
    `pairs`, as "sent Q:N ..."; returns 1 if a datagram never came back."""
    t = Tap(a.tap)
    gmac = bytes.fromhex(a.mac.replace(":", ""))
    sent = [0] * pairs
    lost = 0
    for i in range(a.flows):
        sport = sport_of(i)
        q = queue_of(sport)
        for j in range(per_flow):
            n, ok = udp_echo(t, gmac, a.peer_ip, a.guest_ip, sport, payload_of(i, j))
            sent[q] += n
            lost += not ok
    print("sent " + " ".join("%d:%d" % (q, n) for q, n in enumerate(sent)))
    if lost:
        print("flows: FAIL %d datagrams never echoed" % lost)
    return 1 if lost else 0


def flows(a):
    return echo_flows(a, a.pairs, lambda i: 20000 + i * 7,
                      lambda sport: rss_queue(a.peer_ip, a.guest_ip, sport, 7, a.pairs, a.indir),
                      lambda i, j: struct.pack("!HH", i, j) + os.urandom(32), a.per_flow)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["probe", "announce", "respond", "flows", "pick"])
    ap.add_argument("--tap")
    ap.add_argument("--mac")
    ap.add_argument("--vid", type=int, default=100)
    ap.add_argument("--other-vid", type=int, default=200)
    ap.add_argument("--base-ip")
    ap.add_argument("--base-peer")
    ap.add_argument("--vlan-ip")
    ap.add_argument("--vlan-peer")
    ap.add_argument("--secs", type=float, default=4)
    ap.add_argument("--guest-ip")
    ap.add_argument("--peer-ip")
    ap.add_argument("--flows", type=int, default=64)
    ap.add_argument("--per-flow", type=int, default=2)
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--indir", type=int, default=128)
    ap.add_argument("--src")
    ap.add_argument("--dst")
    ap.add_argument("--sport", type=int)
    ap.add_argument("--dport", type=int)
    a = ap.parse_args()
    if a.cmd == "pick":
        print(rss_queue(a.src, a.dst, a.sport, a.dport, a.pairs, a.indir))
        return 0
    return {"probe": probe, "announce": announce, "respond": respond, "flows": flows}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
