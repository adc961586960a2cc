#!/usr/bin/env python3
"""A deliberately misbehaving vhost-user back-end, for the front-end's error tests.

It speaks just enough vhost-user (QEMU docs/interop/vhost-user.rst: a 12-byte
header of request, flags, size in native byte order, then the payload; file
descriptors travel as SCM_RIGHTS) to get a front-end through the start of
its handshake, and breaks the protocol in exactly one chosen way when the
front-end sends the chosen request (--on, default GET_FEATURES):

  noversion   GET_FEATURES reply without VIRTIO_F_VERSION_1 (bit 32): a
              legacy-only device; a VirtIO 1.x driver must refuse it.
  truncated   the reply header announces 8 payload bytes, 3 are sent, then
              the connection is closed.
  malformed   the reply's size field says 4 for a u64 reply (and 4 bytes follow).
  badversion  the reply's header carries version bits 2 instead of 1.
  wrongcode   the reply carries another request code (GET_PROTOCOL_FEATURES
              for a GET_FEATURES request, GET_FEATURES otherwise).
  noreplyflag the reply lacks the REPLY flag.
  oversize    the reply header announces a 1 MiB payload.
  silent      never answer that request (the front-end must time out).
  hangup      close the connection when that request arrives.
  good        no fault (answers every request it knows); for sanity checks.

Requests other than the faulted one get well-formed answers: GET_FEATURES
offers VERSION_1 | PROTOCOL_FEATURES | MRG_RXBUF | RING_PACKED | IN_ORDER |
EVENT_IDX, GET_PROTOCOL_FEATURES offers MQ | REPLY_ACK | CONFIG, and any
request carrying NEED_REPLY gets a zero ack.  It never touches the rings.

By default it listens on PATH (like dpdk-testpmd's vhost PMD), serves one
connection, and exits; --connect makes it the client of a listening
front-end.  It prints one line per request received to stderr, and exits
with 0 once the fault was delivered (or the peer went away after it).
"""
import argparse
import os
import socket
import struct
import sys
import time

HDR = struct.Struct("=III")
VERSION = 0x1
F_REPLY = 0x4
F_NEED_REPLY = 0x8

REQ = {
    "GET_FEATURES": 1, "SET_FEATURES": 2, "SET_OWNER": 3, "RESET_OWNER": 4,
    "SET_MEM_TABLE": 5, "SET_LOG_BASE": 6, "SET_LOG_FD": 7, "SET_VRING_NUM": 8,
    "SET_VRING_ADDR": 9, "SET_VRING_BASE": 10, "GET_VRING_BASE": 11,
    "SET_VRING_KICK": 12, "SET_VRING_CALL": 13, "SET_VRING_ERR": 14,
    "GET_PROTOCOL_FEATURES": 15, "SET_PROTOCOL_FEATURES": 16, "GET_QUEUE_NUM": 17,
    "SET_VRING_ENABLE": 18, "SEND_RARP": 19, "NET_SET_MTU": 20,
    "SET_BACKEND_REQ_FD": 21, "IOTLB_MSG": 22, "SET_VRING_ENDIAN": 23,
    "GET_CONFIG": 24, "SET_CONFIG": 25, "GET_INFLIGHT_FD": 31,
    "SET_INFLIGHT_FD": 32, "GET_MAX_MEM_SLOTS": 36, "ADD_MEM_REG": 37,
    "REM_MEM_REG": 38, "SET_STATUS": 39, "GET_STATUS": 40,
}
NAME = {v: k for k, v in REQ.items()}

VIRTIO_NET_F_MRG_RXBUF = 1 << 15
VIRTIO_NET_F_STATUS = 1 << 16
VIRTIO_RING_F_EVENT_IDX = 1 << 29
VHOST_USER_F_PROTOCOL_FEATURES = 1 << 30
VIRTIO_F_VERSION_1 = 1 << 32
VIRTIO_F_RING_PACKED = 1 << 34
VIRTIO_F_IN_ORDER = 1 << 35
GOOD_FEATURES = (VIRTIO_F_VERSION_1 | VHOST_USER_F_PROTOCOL_FEATURES | VIRTIO_NET_F_MRG_RXBUF |
                 VIRTIO_F_RING_PACKED | VIRTIO_F_IN_ORDER | VIRTIO_RING_F_EVENT_IDX |
                 VIRTIO_NET_F_STATUS)
PROTO_MQ, PROTO_REPLY_ACK, PROTO_CONFIG = 1 << 0, 1 << 3, 1 << 9
GOOD_PROTOCOL = PROTO_MQ | PROTO_REPLY_ACK

FAULTS = ("noversion", "truncated", "malformed", "badversion", "wrongcode",
          "noreplyflag", "oversize", "silent", "hangup", "good")


def log(msg):
    print("bad_backend: " + msg, file=sys.stderr, flush=True)


def recv_exact(conn, n, fds):
    """n bytes (and any fds that come with them); None on EOF."""
    buf = b""
    while len(buf) < n:
        data, got, _flags, _addr = socket.recv_fds(conn, n - len(buf), 8)
        fds.extend(got)
        if not data:
            return None
        buf += data
    return buf


def reply(conn, request, payload, flags=VERSION | F_REPLY, size=None):
    conn.sendall(HDR.pack(request, flags, len(payload) if size is None else size) + payload)


def serve(conn, fault, fault_on):
    delivered = False
    while True:
        fds = []
        hdr = recv_exact(conn, HDR.size, fds)
        if hdr is None:
            log("peer closed the connection")
            return delivered
        request, flags, size = HDR.unpack(hdr)
        payload = recv_exact(conn, size, fds) if size else b""
        for fd in fds:
            os.close(fd)
        if payload is None:
            log("peer closed mid-message")
            return delivered
        log("request %s (%d) flags 0x%x size %d fds %d" % (NAME.get(request, "?"), request, flags, size, len(fds)))

        if request == fault_on and fault != "good" and not delivered:
            delivered = True
            log("delivering fault '%s' on %s" % (fault, NAME.get(request, str(request))))
            if fault == "hangup":
                return True
            if fault == "silent":
                # keep the connection open and answer nothing more
                try:
                    while conn.recv(4096):
                        pass
                except OSError:
                    pass
                return True
            value = struct.pack("=Q", GOOD_FEATURES if request == REQ["GET_FEATURES"] else GOOD_PROTOCOL)
            if fault == "noversion":
                value = struct.pack("=Q", GOOD_FEATURES & ~VIRTIO_F_VERSION_1 & ~VIRTIO_F_RING_PACKED
                                    & ~VIRTIO_F_IN_ORDER)
                reply(conn, request, value)
                continue  # a correct front-end gives up here; keep answering if it does not
            if fault == "truncated":
                conn.sendall(HDR.pack(request, VERSION | F_REPLY, 8) + value[:3])
                time.sleep(0.2)
                return True
            if fault == "malformed":
                reply(conn, request, value[:4])
            elif fault == "badversion":
                reply(conn, request, value, flags=0x2 | F_REPLY)
            elif fault == "wrongcode":
                other = REQ["GET_PROTOCOL_FEATURES"] if request == REQ["GET_FEATURES"] else REQ["GET_FEATURES"]
                reply(conn, other, value)
            elif fault == "noreplyflag":
                reply(conn, request, value, flags=VERSION)
            elif fault == "oversize":
                reply(conn, request, b"", size=1 << 20)
            # after the fault, wait for the peer to react (close) and report
            conn.settimeout(10)
            try:
                while conn.recv(4096):
                    pass
            except OSError:
                pass
            return True

        # well-formed behaviour
        if request == REQ["GET_FEATURES"]:
            reply(conn, request, struct.pack("=Q", GOOD_FEATURES))
        elif request == REQ["GET_PROTOCOL_FEATURES"]:
            reply(conn, request, struct.pack("=Q", GOOD_PROTOCOL))
        elif request == REQ["GET_QUEUE_NUM"]:
            reply(conn, request, struct.pack("=Q", 1))
        elif request == REQ["GET_MAX_MEM_SLOTS"]:
            reply(conn, request, struct.pack("=Q", 8))
        elif request == REQ["GET_VRING_BASE"]:
            index = struct.unpack_from("=I", payload)[0] if len(payload) >= 4 else 0
            reply(conn, request, struct.pack("=II", index, 0))
        elif request == REQ["GET_STATUS"]:
            reply(conn, request, struct.pack("=Q", 0))
        elif request == REQ["GET_CONFIG"]:
            reply(conn, request, b"")  # "failed": the front-end reads config elsewhere
        elif flags & F_NEED_REPLY:
            reply(conn, request, struct.pack("=Q", 0))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", help="UNIX socket path")
    ap.add_argument("--fault", choices=FAULTS, required=True)
    ap.add_argument("--on", default="GET_FEATURES", choices=sorted(REQ), help="request that triggers the fault")
    ap.add_argument("--connect", action="store_true", help="connect to a listening front-end instead of listening")
    ap.add_argument("--timeout", type=float, default=30.0, help="give up after this many seconds")
    args = ap.parse_args()

    deadline = time.monotonic() + args.timeout
    if args.connect:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        while True:
            try:
                conn.connect(args.path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    log("no front-end listening on %s" % args.path)
                    return 2
                time.sleep(0.05)
    else:
        try:
            os.unlink(args.path)
        except FileNotFoundError:
            pass
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(args.path)
        srv.listen(1)
        srv.settimeout(max(0.1, deadline - time.monotonic()))
        log("listening on %s, fault '%s' on %s" % (args.path, args.fault, args.on))
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            log("no front-end connected")
            return 2
        finally:
            srv.close()
    conn.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        ok = serve(conn, args.fault, REQ[args.on])
    except socket.timeout:
        log("timed out")
        ok = args.fault == "silent"
    except OSError as e:
        log("connection error: %s" % e)
        ok = True
    conn.close()
    if not args.connect:
        try:
            os.unlink(args.path)
        except FileNotFoundError:
            pass
    return 0 if ok or args.fault == "good" else 1


if __name__ == "__main__":
    sys.exit(main())
