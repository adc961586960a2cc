#!/usr/bin/env python3
"""Generate the seed corpora for fuzz_vq (the ring engine) and fuzz_net_rx
(the virtio-net receive path).

Each seed is a small program in the byte language the harness reads (see
the comment at the top of fuzz_vq.c / fuzz_net_rx.c): a configuration byte
(layout and ring features) and then steps.  The seeds cover every layout and
feature combination with an honest exchange (post, publish, use, complete,
reset), plus one example of each kind of lie, so the fuzzer starts next to
every branch.

Usage: gen_seeds_rx.py [OUTDIR]   (default: corpus/ beside this file; writes
OUTDIR/vq and OUTDIR/net_rx).  Deterministic; re-running rewrites the same files.
"""
import os
import struct
import sys

# ---------------------------------------------------------------- fuzz_vq

# config byte: bit0 packed, bit1 EVENT_IDX, bit2 IN_ORDER, bit3 INDIRECT,
# bits4-6 size index into {1, 2, 4, 8, 16, 64, 256, 3}
def vq_cfg(packed, event_idx, in_order, indirect, size_idx):
    return bytes([packed | event_idx << 1 | in_order << 2 | indirect << 3 | size_idx << 4])


def vq_add(nseg=1, out_n=0, seglen=0x10, tok=0):
    # a: bits0-1 = nseg - 1, bits2.. = out_n (mod nseg + 1)
    b = bytes([0, (nseg - 1) | out_n << 2])
    for i in range(nseg):
        b += bytes([i, seglen])
    return b + bytes([tok])


def vq_kick():
    return bytes([2])


def vq_use(mode=0x08, length=0x40, sel=0, id_=0):
    # mode: 0x80 32-bit len, 0x40 raw id, 0x20 pick sel, 0x10 flip an id bit,
    # 0x08 split publish now, 0x04 flip a flag bit, 0x02 odd step
    b = bytes([3, sel, mode])
    b += struct.pack("<I", length) if mode & 0x80 else bytes([length & 0xff])
    return b + struct.pack("<H", id_)


def vq_publish(raw=None):
    if raw is None:
        return bytes([5])
    return bytes([0x85]) + struct.pack("<H", raw)


def vq_get(maxn=8):
    return bytes([6 | ((maxn - 1) << 4)])


def vq_raw(off, val):
    return bytes([8]) + struct.pack("<HH", off, val)


def vq_reset():
    return bytes([9])


def vq_honest(n):
    p = b""
    for i in range(n):
        p += vq_add(nseg=1 + i % 3, out_n=i % 2, tok=i)
    p += vq_kick()
    for _ in range(n):
        p += vq_use()
    p += vq_publish() + vq_get() + vq_get()
    return p


def vq_seeds():
    out = {}
    for packed in (0, 1):
        for ev in (0, 1):
            for io in (0, 1):
                for ind in (0, 1):
                    name = "honest_%s%s%s%s" % ("packed" if packed else "split", "_evidx" if ev else "",
                                                "_inorder" if io else "", "_indirect" if ind else "")
                    out[name] = vq_cfg(packed, ev, io, ind, 3) + vq_honest(6) + vq_reset() + vq_honest(3)
    lay = (("split", 0), ("packed", 1))
    for lname, packed in lay:
        base = vq_cfg(packed, 1, 0, 1, 2)
        fill = vq_add(tok=1) + vq_add(tok=2) + vq_add(nseg=3, out_n=1, tok=3) + vq_kick()
        out["lie_len_%s" % lname] = base + fill + vq_use(mode=0x88, length=0xffffffff) + vq_publish() + vq_get()
        out["lie_id_raw_%s" % lname] = base + fill + vq_use(mode=0x48, id_=0x7fff) + vq_publish() + vq_get()
        out["lie_id_flip_%s" % lname] = base + fill + vq_use(mode=0x18, sel=1) + vq_publish() + vq_get()
        out["lie_order_%s" % lname] = (vq_cfg(packed, 0, 1, 0, 2) + fill + vq_use(mode=0x28, sel=1) +
                                       vq_publish() + vq_get() + vq_reset() + vq_honest(2))
        out["lie_raw_%s" % lname] = base + fill + vq_raw(0x0003, 0xffff) + vq_raw(0x0002, 0x1234) + vq_get()
        out["wrap_%s" % lname] = vq_cfg(packed, 1, 0, 0, 1) + vq_honest(2) * 12
    out["lie_idx_jump_split"] = (vq_cfg(0, 0, 0, 0, 2) + vq_add() + vq_kick() + vq_use(mode=0) +
                                 vq_publish(raw=9) + vq_get())
    out["lie_flags_packed"] = (vq_cfg(1, 0, 0, 0, 2) + vq_add() + vq_add(tok=1) + vq_kick() +
                               vq_use(mode=0x04, sel=0) + vq_use(mode=0x02, sel=5) + vq_get())
    return out


# ---------------------------------------------------------------- fuzz_net_rx

# config byte: bit0 packed, bit1 MRG_RXBUF, bit2 IN_ORDER, bit3 EVENT_IDX,
# bit4 INDIRECT, bit5 accept GUEST_CSUM, bit6 ask every receive offload
# (GSO frames; big-packet chains without MRG_RXBUF), bit7 ask every transmit
# offload (the tx step sends chains with metadata); second byte: buffer size
# index (bits0-1 of {192, 256, 1024, 2048}), refill batch (bits2-4).
def rx_cfg(packed, mrg, in_order, event_idx, indirect, csum, bufidx, batch=0, rx_off=0, tx_off=0):
    return bytes([packed | mrg << 1 | in_order << 2 | event_idx << 3 | indirect << 4 | csum << 5 |
                  rx_off << 6 | tx_off << 7, bufidx | batch << 2])


def rx_inject(length=60, fill=0x11, flags=None, gso=None, nbufs=None, chunk=None, used=None, seg=None):
    """seg: (index 1..4, dict(len=, id=, head=True, hdr=nbufs))"""
    a = 0
    b = 0
    tail = b""
    if flags is not None:
        a |= 0x01
        tail += struct.pack("<BHH", *flags)
    if gso is not None:
        a |= 0x02
        tail += struct.pack("<BHH", *gso)
    if nbufs is not None:
        a |= 0x04
        if nbufs > 7:
            b |= 0x80
            tail += struct.pack("<H", nbufs)
        else:
            b |= nbufs
    if chunk is not None:
        a |= 0x08
        tail += struct.pack("<H", chunk - 1)
    if used is not None:
        a |= 0x10
        if used > 0xffff:
            b |= 0x40
            tail += struct.pack("<HH", used >> 16, used & 0xffff)
        else:
            tail += struct.pack("<H", used)
    if seg is not None:
        a |= 0x20
        idx, lie = seg
        b |= (idx - 1) & 3
        w = 0
        st = b""
        if "len" in lie:
            w |= 1
            if lie["len"] > 0xffff:
                w |= 2
                st += struct.pack("<HH", lie["len"] >> 16, lie["len"] & 0xffff)
            else:
                st += struct.pack("<H", lie["len"])
        if "id" in lie:
            w |= 4
            if lie["id"] == "head":
                w |= 8
            else:
                st += struct.pack("<H", lie["id"])
        if "hdr" in lie:
            w |= 16
            st += struct.pack("<H", lie["hdr"])
        tail += bytes([w]) + st
    if length > 0xff:
        a |= 0x80
        head = struct.pack("<BBBH", 0, a, b, length)
    else:
        head = bytes([0, a, b, length])
    return head + bytes([fill] * min(length, 64)) + tail


def rx_burst(n=8):
    return bytes([3 | ((n - 1) << 3)])


def rx_release(k=0):
    return bytes([4 | (k << 3)])


def rx_tx(length=50):
    return bytes([5, length])


def tx_off(lens=(100,), csum=None, gso=None, flags=None, zero=False):
    """A transmit step with config bit 7: a chain of len(lens) segments
    (each len*8 bytes), optional csum (start, offset), gso (type, size,
    hdr_len), extra flag bits; zero: a zero-length segment."""
    t = (len(lens) - 1) & 3
    tail = bytes(lens)
    if csum is not None:
        t |= 0x10
        tail += struct.pack("<HH", *csum)
    if gso is not None:
        t |= 0x20
        tail += struct.pack("<BHH", *gso)
    if flags is not None:
        t |= 0x40
        tail += bytes([flags])
    if zero:
        t |= 0x80
    return bytes([5, t]) + tail


def rx_poll(budget=4, flags=1):
    # flags: 1 rx_irq first, 2 intr_enable first, 4 VNET_NET_POLL_NO_REARM
    return bytes([6 | (budget << 3), flags])


def rx_restart():
    return bytes([7])


def rx_reclaim():
    return bytes([7 | (1 << 3)])


def rx_honest():
    return (rx_inject(60) + rx_inject(300) + rx_inject(1400) + rx_burst() + rx_release() + rx_release() +
            rx_tx() + rx_poll() + rx_inject(100) + rx_poll(2, 6) + rx_inject(100) + rx_poll(0, 4) +
            rx_poll(8, 3) + rx_release() + rx_reclaim())


def rx_seeds():
    out = {}
    for packed in (0, 1):
        for mrg in (0, 1):
            for io in (0, 1):
                for ev in (0, 1):
                    ind = (packed + io) & 1
                    name = "honest_%s%s%s%s" % ("packed" if packed else "split", "_mrg" if mrg else "",
                                                "_inorder" if io else "", "_evidx" if ev else "")
                    out[name] = rx_cfg(packed, mrg, io, ev, ind, 1, 0 if mrg else 3) + rx_honest() + \
                        rx_restart() + rx_honest()
    for lname, packed in (("split", 0), ("packed", 1)):
        mrg = rx_cfg(packed, 1, 0, 1, 0, 1, 0)
        big = 3000
        out["mrg_%s" % lname] = mrg + rx_inject(big) + rx_inject(600, chunk=40) + rx_burst() + rx_release()
        out["lie_seg_len_%s" % lname] = mrg + rx_inject(big, seg=(1, {"len": 0x10000})) + rx_inject(80) + rx_burst()
        out["lie_seg_len0_%s" % lname] = mrg + rx_inject(big, seg=(2, {"len": 0})) + rx_inject(80) + rx_burst()
        out["lie_seg_id_%s" % lname] = mrg + rx_inject(big, seg=(1, {"id": 0x7fff})) + rx_burst() + rx_restart() + \
            rx_inject(80) + rx_burst()
        out["lie_seg_id_head_%s" % lname] = mrg + rx_inject(big, seg=(1, {"id": "head"})) + rx_burst() + \
            rx_restart() + rx_inject(80) + rx_burst()
        out["lie_seg_hdr_%s" % lname] = mrg + rx_inject(big, seg=(1, {"hdr": 40})) + rx_burst()
        out["lie_nbufs_%s" % lname] = mrg + rx_inject(80, nbufs=3) + rx_inject(80) + rx_inject(80) + rx_burst() + \
            rx_inject(80, nbufs=40000) + rx_inject(80, nbufs=0) + rx_burst()
        out["lie_used_%s" % lname] = mrg + rx_inject(80, used=5) + rx_inject(80, used=0xffffffff) + rx_burst()
        out["lie_csum_%s" % lname] = mrg + rx_inject(80, flags=(1, 70, 9)) + rx_inject(80, flags=(1, 14, 6)) + \
            rx_inject(80, flags=(2, 0, 0)) + rx_burst()
        out["lie_gso_%s" % lname] = mrg + rx_inject(80, gso=(1, 1448, 54)) + rx_burst()
        out["pool_%s" % lname] = mrg + (rx_inject(1000) + rx_burst(1)) * 40 + rx_release(3) + rx_burst()
    # Offloads (issue 9): GSO receive with mergeable buffers and in
    # big-packet mode (with and without indirect), the device's lies about
    # the GSO fields, and transmit chains with metadata, good and bad.
    nc = 1  # VIRTIO_NET_HDR_F_NEEDS_CSUM
    for lname, packed in (("split", 0), ("packed", 1)):
        for mode, mrg, ind in (("mrg", 1, 0), ("big", 0, 0), ("big_ind", 0, 1)):
            cfg = rx_cfg(packed, mrg, 0, 1, ind, 1, 3, rx_off=1)
            good = rx_inject(9000, flags=(nc, 34, 16), gso=(1, 1448, 54)) + rx_burst() + \
                rx_inject(60) + rx_burst() + rx_release() + rx_release()
            out["off_rx_%s_%s" % (mode, lname)] = cfg + good + rx_restart() + good
            out["off_rx_lie_%s_%s" % (mode, lname)] = cfg + \
                rx_inject(5000, flags=(nc, 34, 16), gso=(1, 0, 54)) + rx_burst() + \
                rx_inject(5000, flags=(nc, 34, 16), gso=(1, 1448, 60000)) + rx_burst() + \
                rx_inject(5000, flags=(nc, 4990, 16), gso=(4, 1448, 54)) + rx_burst() + \
                rx_inject(5000, flags=(nc, 34, 6), gso=(0x85, 1448, 42)) + rx_burst() + \
                rx_inject(5000, flags=(0, 0, 0), gso=(2, 1448, 54)) + rx_burst() + \
                rx_inject(5000, flags=(4 | nc, 3, 0)) + rx_burst() + \
                rx_inject(5000, used=0x7fffffff) + rx_burst() + rx_inject(60) + rx_burst()
        cfg = rx_cfg(packed, 1, 0, 1, 1, 1, 3, tx_off=1)
        out["off_tx_%s" % lname] = cfg + tx_off((200, 200, 200), csum=(34, 16), gso=(1, 1448, 54)) + \
            tx_off((100, 50), csum=(34, 16)) + tx_off((40,)) + tx_off((200, 200), csum=(54, 6), gso=(5, 1400, 62)) + \
            tx_off((200,), csum=(34, 16), gso=(0x84, 1440, 74)) + rx_reclaim()
        out["off_tx_bad_%s" % lname] = cfg + tx_off((200, 200), csum=(34, 16), gso=(1, 0, 54)) + \
            tx_off((200, 200), csum=(34, 16), gso=(1, 1448, 4000)) + tx_off((20,), csum=(159, 0)) + \
            tx_off((200,), gso=(1, 1448, 54)) + tx_off((200,), csum=(34, 16), gso=(2, 1448, 54)) + \
            tx_off((200,), flags=8) + tx_off((50, 50), zero=True) + tx_off((200, 200, 200, 200))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    for sub, seeds in (("vq", vq_seeds()), ("net_rx", rx_seeds())):
        d = os.path.join(root, sub)
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(seeds.items()):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print("%s: %d seeds" % (d, len(seeds)))


if __name__ == "__main__":
    main()
