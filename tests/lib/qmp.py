#!/usr/bin/env python3
"""Minimal QMP client for the test scripts (QEMU Machine Protocol over a
Unix socket: greeting, qmp_capabilities, then one command at a time).

usage:
  qmp.py SOCK cmd NAME [JSON-ARGUMENTS]     print the command's "return" as JSON
  qmp.py SOCK rx-filter-check NIC K=V...    query-rx-filter for NIC and compare
  qmp.py SOCK cmd-event NAME JSON EVENT SECS  run the command, then wait up to
                                            SECS for EVENT (e.g. device_del,
                                            then DEVICE_DELETED of that id);
                                            prints "EVENT after N ms"; exit 1
                                            if it does not come
                                            fields; exit 1 naming each mismatch
Keys for rx-filter-check: promiscuous, multicast, unicast,
broadcast-allowed, main-mac, unicast-overflow, multicast-overflow
(scalars as QEMU prints them: true/false, normal/none/all, a MAC), and
unicast-table, multicast-table, vlan-table (comma lists, empty for [];
compared as sets: QEMU lists the newest entry first).
Asynchronous events QEMU sends in between are skipped.  Every socket
operation is bounded by a 10 s timeout.  Exit: 0 ok, 1 mismatch or QMP
error, 2 usage/connection error.
"""
import json
import socket
import sys
import time


class Qmp:
    def __init__(self, path):
        self.events = []
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while True:
            line = self.f.readline()
            if not line:
                raise ConnectionError("QMP connection closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg
            self.events.append(msg)

    def wait_event(self, name, match, secs):
        """The first event NAME whose data has every key/value of match
        (seen before or within secs), or None."""
        deadline = time.monotonic() + secs
        while True:
            for i, ev in enumerate(self.events):
                data = ev.get("data", {})
                if ev["event"] == name and all(data.get(k) == v for k, v in match.items()):
                    del self.events[: i + 1]
                    return ev
            self.events.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                line = self.f.readline()
            except (socket.timeout, OSError):
                return None
            finally:
                self.s.settimeout(10)
            if not line:
                raise ConnectionError("QMP connection closed")
            msg = json.loads(line)
            if "event" in msg:
                self.events.append(msg)

    def cmd(self, name, args=None):
        req = {"execute": name}
        if args:
            req["arguments"] = args
        self.f.write(json.dumps(req).encode() + b"\n")
        self.f.flush()
        msg = self._read()
        if "error" in msg:
            raise RuntimeError("%s: %s" % (name, msg["error"].get("desc", msg["error"])))
        return msg.get("return")


def fmt(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    return str(v)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        q = Qmp(argv[1])
    except OSError as e:
        print("qmp: cannot connect to %s: %s" % (argv[1], e), file=sys.stderr)
        return 2
    try:
        if argv[2] == "cmd":
            args = json.loads(argv[4]) if len(argv) > 4 else None
            print(json.dumps(q.cmd(argv[3], args)))
            return 0
        if argv[2] == "cmd-event" and len(argv) == 7:
            args = json.loads(argv[4]) if argv[4] else None
            t0 = time.monotonic()
            q.cmd(argv[3], args)
            match = {"device": args["id"]} if args and "id" in args else {}
            ev = q.wait_event(argv[5], match, float(argv[6]))
            if ev is None:
                print("qmp: no %s within %s s after %s" % (argv[5], argv[6], argv[3]))
                return 1
            print("%s after %d ms" % (argv[5], (time.monotonic() - t0) * 1000))
            return 0
        if argv[2] == "rx-filter-check":
            nic = argv[3]
            filters = q.cmd("query-rx-filter", {"name": nic})
            if not filters:
                print("qmp: no rx-filter for %s" % nic)
                return 1
            rf = filters[0]
            bad = 0
            for kv in argv[4:]:
                k, _, want = kv.partition("=")
                if k not in rf:
                    print("qmp: rx-filter has no field %s" % k)
                    bad += 1
                    continue
                got = fmt(rf[k])
                if isinstance(rf[k], list):
                    # A table is a set (QEMU lists newest first).
                    got = ",".join(sorted(str(x) for x in rf[k]))
                    want = ",".join(sorted(w for w in want.split(",") if w))
                if got != want:
                    print("qmp: %s: QEMU shows %s=%s, expected %s" % (nic, k, got, want))
                    bad += 1
            return 1 if bad else 0
    except (RuntimeError, ConnectionError, OSError, ValueError) as e:
        print("qmp: %s" % e)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
