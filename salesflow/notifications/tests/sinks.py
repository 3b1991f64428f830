"""Real local servers standing in for DingTalk, WeCom and an SMTP relay in tests."""
import base64
import hashlib
import hmac
import json
import socketserver
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class RobotRequest:
    path: str
    query: dict
    body: dict
    signature_ok: bool | None


@dataclass
class RobotServer:
    """Answers like a group robot; `answers` is a queue of (status, json or bytes[, headers]) replies,
    then errcode 0.

    `delays` is a queue of seconds to wait (after recording the request) before answering:
    a robot slower than the sender's timeout.
    """

    secret: str = ""
    answers: list = field(default_factory=list)
    received: list = field(default_factory=list)
    delays: list = field(default_factory=list)

    def start(self):
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                split = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(split.query))
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError:
                    body = {"_unparsable": raw.decode("latin-1")}
                robot.received.append(RobotRequest(split.path, query, body, robot.check_signature(query)))
                if robot.delays:
                    time.sleep(robot.delays.pop(0))
                status, answer, *headers = robot.answers.pop(0) if robot.answers else (200, {"errcode": 0, "errmsg": "ok"})
                payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    for name, value in (headers[0] if headers else {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def check_signature(self, query: dict) -> bool | None:
        """DingTalk's check, written from its documentation independently of the sender."""
        if not self.secret:
            return None
        timestamp, sign = query.get("timestamp"), query.get("sign")
        if not timestamp or not sign:
            return False
        expected = base64.b64encode(
            hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256).digest()
        ).decode()
        return hmac.compare_digest(sign, expected)


@dataclass
class SmtpSink:
    """A minimal SMTP server keeping each message it accepts; `refuse_rcpt` answers 550 to RCPT."""

    refuse_rcpt: bool = False
    messages: list = field(default_factory=list)

    def start(self):
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str):
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self):
                self.reply("220 sink ready")
                envelope = {"to": [], "data": b""}
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line.decode(errors="replace").strip().upper()
                    if verb.startswith(("EHLO", "HELO")):
                        self.reply("250 sink")
                    elif verb.startswith("MAIL"):
                        self.reply("250 ok")
                    elif verb.startswith("RCPT"):
                        if sink.refuse_rcpt:
                            self.reply("550 no such user")
                        else:
                            envelope["to"].append(line.decode().split(":", 1)[1].strip(" <>\r\n"))
                            self.reply("250 ok")
                    elif verb == "DATA":
                        self.reply("354 go ahead")
                        chunks = []
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            chunks.append(chunk)
                        envelope["data"] = b"".join(chunks)
                        sink.messages.append(dict(envelope))
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 ok")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
