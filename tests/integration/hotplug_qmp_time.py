#!/usr/bin/env python3
"""Host-side time from a QMP command to a console line (kernel_hotplug).

usage: hotplug_qmp_time.py SOCK LOG NAME JSON REGEX SECS [EVENT]

Connects to QMP at SOCK, notes the end of the console log LOG (the file
tests/lib/qemu.sh's reader copies the serial FIFO into), takes the host's
monotonic clock, sends NAME with the JSON arguments, then polls LOG every
0.2 ms for a new complete line (ending in a newline) matching REGEX, for
up to SECS seconds.  With EVENT it also waits (in a second thread, on the
same QMP connection) for that event whose "device" is the JSON's "id"
(device_del -> DEVICE_DELETED).  Prints
  line after X.XXX ms: <the line>
  EVENT after Y.YYY ms
Both times run from just before the command is written to the socket, on
time.monotonic_ns(); the line's time is when this process saw it in LOG,
so it includes the serial chardev, the FIFO reader's copy and up to one
0.2 ms poll period (plus scheduling delay on a loaded host): an upper
bound on the kernel's print, never an under-estimate.
Exit: 0 both seen, 1 timeout or QMP error, 2 usage/connection error.
"""
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from qmp import Qmp  # noqa: E402


def main(argv):
    if len(argv) not in (7, 8):
        print(__doc__, file=sys.stderr)
        return 2
    sock, logpath, name, jargs, regex, secs = argv[1:7]
    event = argv[7] if len(argv) == 8 else None
    args = json.loads(jargs) if jargs else None
    secs = float(secs)
    rx = re.compile(regex)
    try:
        q = Qmp(sock)
        log = open(logpath, "rb")
    except OSError as e:
        print("qmp_time: cannot open %s / %s: %s" % (sock, logpath, e), file=sys.stderr)
        return 2
    log.seek(0, os.SEEK_END)
    pending = b""
    t0 = time.monotonic_ns()
    try:
        q.cmd(name, args)
    except (RuntimeError, ConnectionError, OSError) as e:
        print("qmp_time: %s" % e)
        return 1
    ev_ns = []
    th = None
    if event:
        match = {"device": args["id"]} if args and "id" in args else {}

        def wait():
            try:
                if q.wait_event(event, match, secs) is not None:
                    ev_ns.append(time.monotonic_ns())
            except (ConnectionError, OSError, ValueError):
                pass
        th = threading.Thread(target=wait, daemon=True)
        th.start()
    deadline = t0 + int(secs * 1e9)
    line_ns = None
    line = ""
    while line_ns is None and time.monotonic_ns() < deadline:
        chunk = log.read()
        if chunk:
            pending += chunk
            while b"\n" in pending:
                raw, pending = pending.split(b"\n", 1)
                text = raw.decode("utf-8", "replace").replace("\r", "")
                if rx.search(text):
                    line_ns = time.monotonic_ns()
                    line = text
                    break
        else:
            time.sleep(0.0002)
    rc = 0
    if line_ns is None:
        print("qmp_time: no line matching %r within %s s after %s" % (regex, argv[6], name))
        rc = 1
    else:
        print("line after %.3f ms: %s" % ((line_ns - t0) / 1e6, line))
    if th:
        th.join(max(0.0, (deadline - time.monotonic_ns()) / 1e9))
        if ev_ns:
            print("%s after %.3f ms" % (event, (ev_ns[0] - t0) / 1e6))
        else:
            print("qmp_time: no %s within %s s after %s" % (event, argv[6], name))
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
