#!/usr/bin/env python3
"""Host side of kernel_link_flap: one UDP echo attempt to 127.0.0.1:PORT
(QEMU hostfwd to the Orion kernel's UDP echo port 7).

  link_flap_echo.py PORT none SECONDS
      send one datagram and listen SECONDS: exit 0 if no echo of it came
      back (the link is down), 1 if it did.
  link_flap_echo.py PORT reply SECONDS
      send a fresh datagram every 0.1 s until its echo comes back intact or
      SECONDS pass; exit 0 and print the wall-clock time (time.time(), s)
      of the first reply, 1 on timeout.

Each datagram carries a unique tag, so a late echo of an earlier attempt
(or of the "none" probe) is recognised and ignored, never counted as a reply.
"""
import os
import socket
import sys
import time


def main():
    port, mode, secs = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", port))
    tag = b"flap-" + os.urandom(8).hex().encode()
    end = time.time() + secs
    if mode == "none":
        s.send(tag)
        while time.time() < end:
            s.settimeout(max(end - time.time(), 0.01))
            try:
                if s.recv(4096) == tag:
                    print("echo came back while the link was down")
                    return 1
            except socket.timeout:
                break
            except ConnectionRefusedError:
                continue
        return 0
    n = 0
    while time.time() < end:
        msg = tag + b"-%d" % n
        n += 1
        try:
            s.send(msg)
        except ConnectionRefusedError:
            pass
        step = time.time() + 0.1
        while time.time() < step:
            s.settimeout(max(step - time.time(), 0.005))
            try:
                data = s.recv(4096)
            except socket.timeout:
                break
            except ConnectionRefusedError:
                continue
            if data.startswith(tag + b"-"):
                if data != msg and not data[len(tag) + 1:].isdigit():
                    print("corrupt echo")
                    return 1
                print("%.6f %d" % (time.time(), n))
                return 0
    print("no echo within %.1fs (%d sent)" % (secs, n))
    return 1


if __name__ == "__main__":
    sys.exit(main())
