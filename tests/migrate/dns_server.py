#!/usr/bin/env python3
# A one-name nameserver for the migrate test of host names (tests/migrate/
# run.sh t_names): answers A queries for NAME with ADDR and every other query
# with NXDOMAIN, on UDP 127.0.0.1:53 of the namespace it runs in, until killed.
# Writes "ready" to stdout once bound. Usage: dns_server.py NAME ADDR
import socket
import struct
import sys

name, addr = sys.argv[1].lower().rstrip("."), socket.inet_aton(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(512)
    labels, pos = [], 12
    while pos < len(q) and q[pos]:
        labels.append(q[pos + 1:pos + 1 + q[pos]].decode(errors="replace"))
        pos += 1 + q[pos]
    qtype = struct.unpack(">H", q[pos + 1:pos + 3])[0]
    question = q[12:pos + 5]
    found = ".".join(labels).lower() == name
    rcode = 0 if found else 3
    ans = b""
    if found and qtype == 1:
        ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + addr
    head = q[:2] + struct.pack(">BBHHHH", 0x81, 0x80 | rcode, 1, 1 if ans else 0, 0, 0)
    s.sendto(head + question + ans, peer)
