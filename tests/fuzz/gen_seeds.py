#!/usr/bin/env python3
"""Generate the seed corpus for fuzz_vhost_user_msg.

Each seed is one vhost-user message (docs/interop/vhost-user.rst), written
little-endian: vhost-user numbers are host-native and every host we build on
is little-endian.  The set covers each reply the front-end parses (valid),
the main front-end requests (valid, so the request decoder's accepting paths
and the round-trip rebuild are reached), and one example of each rejection
class, so the fuzzer starts next to every branch.

Usage: gen_seeds.py [OUTDIR]   (default: corpus/vhost_user_msg beside this file)
The output is deterministic; re-running rewrites the same files.
"""
import os
import struct
import sys

VERSION = 0x1
REPLY = 0x4
NEED_REPLY = 0x8
RF = VERSION | REPLY


def msg(request, flags, payload=b"", size=None):
    """Header + payload; size defaults to len(payload) (override to lie)."""
    if size is None:
        size = len(payload)
    return struct.pack("<III", request, flags, size) + payload


def u64(v):
    return struct.pack("<Q", v)


def region(gpa, size, uaddr, off):
    return struct.pack("<QQQQ", gpa, size, uaddr, off)


def seeds():
    s = {}
    # ---- valid replies ----
    s["reply_get_features"] = msg(1, RF, u64((1 << 32) | (1 << 30) | (1 << 5)))
    s["reply_get_protocol_features"] = msg(15, RF, u64(0x1FFFF))
    s["reply_get_queue_num"] = msg(17, RF, u64(2))
    s["reply_get_max_mem_slots"] = msg(36, RF, u64(509))
    s["reply_get_status"] = msg(40, RF, u64(0x0F))
    s["reply_get_vring_base"] = msg(11, RF, struct.pack("<II", 1, 0x8010))
    cfg = bytes([0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x01, 0x00])
    s["reply_get_config"] = msg(24, RF, struct.pack("<III", 0, len(cfg), 0) + cfg)
    s["reply_get_config_failed"] = msg(24, RF)
    s["reply_get_inflight_fd"] = msg(31, RF, struct.pack("<QQHHI", 0x4000, 0, 2, 256, 0))
    s["reply_ack_ok"] = msg(5, RF, u64(0))
    s["reply_ack_nack"] = msg(18, RF, u64(1))
    # ---- valid requests ----
    s["req_set_features"] = msg(2, VERSION, u64((1 << 32) | (1 << 30)))
    s["req_set_mem_table_2"] = msg(5, VERSION | NEED_REPLY, struct.pack("<II", 2, 0)
                                   + region(0, 0x80000000, 0x7F0000000000, 0)
                                   + region(0x100000000, 0x40000000, 0x7F1000000000, 0))
    s["req_set_vring_addr"] = msg(9, VERSION, struct.pack("<IIQQQQ", 0, 0, 0x1000, 0x3000, 0x2000, 0))
    s["req_set_vring_kick_nofd"] = msg(12, VERSION, u64(0x101))
    s["req_set_config"] = msg(25, VERSION, struct.pack("<III", 10, 2, 0) + b"\xdc\x05")
    s["req_add_mem_reg"] = msg(37, VERSION | NEED_REPLY, u64(0) + region(0x100000, 0x200000, 0x7F0000100000, 0))
    s["req_iotlb_update"] = msg(22, VERSION, struct.pack("<QQQBB6x", 0x1000, 0x1000, 0x7F00000, 3, 2))
    # ---- malformed, one per rejection class ----
    s["bad_short_header"] = msg(1, RF, u64(1))[:7]
    s["bad_truncated_payload"] = msg(1, RF, u64(1))[:16]
    s["bad_trailing"] = msg(1, RF, u64(1)) + b"\x00"
    s["bad_version"] = msg(1, REPLY | 0x2, u64(1))
    s["bad_not_reply"] = msg(1, VERSION, u64(1))
    s["bad_oversize"] = msg(1, RF, size=0xFFFFFFF0)
    s["bad_mem_table_nregions"] = msg(5, VERSION, struct.pack("<II", 9, 0) + region(0, 0x1000, 0, 0))
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "vhost_user_msg")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds())} seeds to {out}")


if __name__ == "__main__":
    main()
