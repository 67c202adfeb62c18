#!/usr/bin/env python3
"""WebSocket clients that subscribe to a channel, then stop reading (for faults_peers.test.js).

Each socket gets a tiny receive buffer (SO_RCVBUF, set before connect, which also turns off
the kernel's autotuning), so the server's writes to it block as soon as a few KiB are in
flight: the way a slow or stalled phone looks to the server. Node cannot set SO_RCVBUF.

    slow_clients.py PORT CHANNEL COUNT [RCVBUF_BYTES]

Prints {"ready": COUNT} once every client got `subscribed`, then waits for a line on stdin.
On "read", it reads every socket again until the server closes it (at most 20 s), and prints
{"codes": {close code: clients}, "events": total events read, "unclosed": n}. Standard library
only; every wait is bounded.
"""
import base64
import json
import os
import selectors
import socket
import struct
import sys
import time


def frames(buffer):
    """Complete frames at the start of `buffer`: ([(opcode, payload)], rest)."""
    out = []
    while len(buffer) >= 2:
        opcode = buffer[0] & 0x0F
        length = buffer[1] & 0x7F
        offset = 2
        if length == 126:
            if len(buffer) < 4:
                break
            length = struct.unpack(">H", buffer[2:4])[0]
            offset = 4
        elif length == 127:
            if len(buffer) < 10:
                break
            length = struct.unpack(">Q", buffer[2:10])[0]
            offset = 10
        if len(buffer) < offset + length:
            break
        out.append((opcode, buffer[offset:offset + length]))
        buffer = buffer[offset + length:]
    return out, buffer


def masked_text(text):
    payload = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    else:
        header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class Client:
    def __init__(self, port, channel, rcvbuf):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("closed during the upgrade")
            buffer += chunk
        head, buffer = buffer.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"upgrade refused: {head[:80]!r}")
        self.sock.sendall(masked_text(json.dumps({"type": "subscribe", "id": "s", "channel": channel})))
        deadline = time.monotonic() + 10
        while True:
            done, buffer = frames(buffer)
            if any(op == 1 and b'"subscribed"' in payload for op, payload in done):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("no subscribed frame")
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("closed before subscribed")
            buffer += chunk
        self.buffer = buffer
        self.events = 0
        self.code = None
        self.done = False


def main():
    port, channel, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    rcvbuf = int(sys.argv[4]) if len(sys.argv) > 4 else 4096
    clients = [Client(port, channel, rcvbuf) for _ in range(count)]
    print(json.dumps({"ready": len(clients)}), flush=True)

    if sys.stdin.readline().strip() != "read":
        return
    selector = selectors.DefaultSelector()
    for c in clients:
        c.sock.setblocking(False)
        selector.register(c.sock, selectors.EVENT_READ, c)
    deadline = time.monotonic() + 20
    open_count = len(clients)
    while open_count and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            c = key.data
            try:
                chunk = c.sock.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                chunk = b""
            if chunk:
                c.buffer += chunk
                done, c.buffer = frames(c.buffer)
                for op, payload in done:
                    if op == 1 and b'"type":"event"' in payload:
                        c.events += 1
                    elif op == 8:
                        c.code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
            if not chunk or c.code is not None:
                selector.unregister(c.sock)
                c.sock.close()
                c.done = True
                open_count -= 1
    codes = {}
    for c in clients:
        key = str(c.code) if c.code is not None else ("no close frame" if c.done else "still open")
        codes[key] = codes.get(key, 0) + 1
    print(json.dumps({"codes": codes, "events": sum(c.events for c in clients),
                      "unclosed": sum(1 for c in clients if not c.done)}), flush=True)
    for c in clients:
        if not c.done:
            c.sock.close()


if __name__ == "__main__":
    main()
