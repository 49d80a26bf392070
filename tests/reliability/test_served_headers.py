"""What the served app (`samenop serve`: gunicorn) says about itself in its answers."""

from __future__ import annotations

import socket

from tests.reliability.conftest import HOST, Http


def raw_answer(port: int, request: bytes) -> bytes:
    """Send bytes as they are (gunicorn answers a malformed request itself) and read the answer."""
    with socket.create_connection((HOST, port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_served_app_does_not_announce_its_software(live_server):
    """Given the app served as in production (gunicorn, as `samenop serve` starts it)
    When a client asks for the health check, a page, an API answer and an unknown path, and
    sends a request gunicorn itself refuses
    Then no answer names the server software (gunicorn sent `Server: gunicorn` with every
    answer), while the app's own security headers are there."""
    with Http(live_server.port) as client:
        answers = {
            path: client.request(method, path, body)
            for method, path, body in (
                ("GET", "/health", None),
                ("GET", "/login", None),
                ("POST", "/api/v1/auth/token", {"username": "niemand", "password": "p", "otp": "1"}),
                ("GET", "/bestaat-niet", None),
            )
        }
    assert {path: answer.status for path, answer in answers.items()} == {
        "/health": 200,
        "/login": 200,
        "/api/v1/auth/token": 401,
        "/bestaat-niet": 404,
    }
    for path, answer in answers.items():
        assert "server" not in answer.headers, (path, answer.headers)
        assert answer.headers["x-content-type-options"] == "nosniff", path
    refused = raw_answer(live_server.port, b"NOT A REQUEST\r\n\r\n")
    assert refused.startswith(b"HTTP/1.1 400")
    assert b"gunicorn" not in refused.lower()
