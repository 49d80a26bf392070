"""A real HTTP receiver of webhooks on loopback, as an integrator would write one: it checks each
message's signature with its own secret (the `standardwebhooks` package's `verify`), keeps each
`webhook-id` once however often it arrives, and can be down, or answer with an error for a while."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tests.smtp import free_port


@dataclass
class Received:
    """One POST as it arrived: its path, headers, raw body, and whether the signature held."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """Receiving URLs http://127.0.0.1:<port>/<path>, each checked with the secret set for it.

    `attempts` is every POST; `accepted` each webhook-id once (the first accepted arrival), in the
    order they were accepted; `answers` the statuses to give before answering 204 again (a 503 is
    an outage that is not a refused connection); `delays` how long to keep the next answers back."""

    port: int = field(default_factory=free_port)
    secrets: dict[str, str] = field(default_factory=dict)
    attempts: list[Received] = field(default_factory=list)
    accepted: dict[str, Received] = field(default_factory=dict)
    duplicates: int = 0
    answers: list[int] = field(default_factory=list)
    # seconds to wait before answering, after taking a message in: an answer that comes too late
    delays: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def received(self, path: str) -> list[Received]:
        return [message for message in self.accepted.values() if message.path == f"/{path}"]

    def events(self, path: str) -> list[str]:
        return [message.event["type"] for message in self.received(path)]

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        secret = self.secrets.get(path.lstrip("/"))
        try:
            Webhook(secret or "whsec_AAAA").verify(body, headers)
            verified = secret is not None
        except WebhookVerificationError:
            verified = False
        message = Received(path, headers, body, verified)
        with self.lock:
            self.attempts.append(message)
            if not verified:
                return 401
            if self.answers:
                return self.answers.pop(0)
            if message.id in self.accepted:
                self.duplicates += 1
            else:
                self.accepted[message.id] = message
            delay = self.delays.pop(0) if self.delays else 0.0
        time.sleep(delay)
        return 204

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = receiver._handle(self.path, headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
