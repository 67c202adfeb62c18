"""An HTTP proxy in front of kinto-push that misbehaves on purpose, for the plugin's tests."""

import http.client
import socket
import threading


class FaultyProxy:
    """An HTTP proxy in front of kinto-push that misbehaves on purpose, request by request.

    ``plan`` lists what to do with the 1st, 2nd, … request; later ones are relayed:
      "relay"       forward and relay the answer
      "lose-answer" forward (kinto-push stores the events) then close without answering
      "503"         answer 503 without forwarding
      "hang"        read the request, never answer (the client's timeout must fire)
    """

    def __init__(self, upstream_port, plan=()):
        self.upstream_port = upstream_port
        self.plan = list(plan)
        self.seen = []  # (action, headers) per request
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._closing = False
        self._hung = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        self._closing = True
        try:
            self._sock.close()
        except OSError:
            pass
        for c in self._hung:
            c.close()

    def _serve(self):
        while not self._closing:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client):
        client.settimeout(10)
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(65536)
                if not chunk:
                    client.close()
                    return
                data += chunk
            head, body = data.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                k, v = line.split(":", 1)
                headers[k.strip()] = v.strip()
            length = int(headers.get("Content-Length", "0"))
            while len(body) < length:
                chunk = client.recv(65536)
                if not chunk:
                    break
                body += chunk
            with self._lock:
                action = self.plan.pop(0) if self.plan else "relay"
                self.seen.append((action, headers))
            if action == "hang":
                self._hung.append(client)
                return
            if action == "503":
                payload = b'{"code":503,"errno":201,"error":"Service Unavailable","message":"proxy says retry"}'
                client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                               b"Content-Length: " + str(len(payload)).encode() +
                               b"\r\nConnection: close\r\n\r\n" + payload)
                client.close()
                return
            up = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=10)
            fwd = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
            up.request(method, path, body=body, headers=fwd)
            resp = up.getresponse()
            rbody = resp.read()
            up.close()
            if action == "lose-answer":
                client.close()
                return
            client.sendall(
                f"HTTP/1.1 {resp.status} {resp.reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(rbody)}\r\nConnection: close\r\n\r\n".encode() + rbody)
            client.close()
        except OSError:
            client.close()
