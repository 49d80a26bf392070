"""Machine clients over HTTP: the client certificate of a request (mutual TLS) and the check that
a registered system sent it.

Where the certificate comes from, in this order:

1. gunicorn terminating TLS itself (`--certfile --keyfile --ca-certs --cert-reqs 2`): the
   verified peer certificate of the connection (`gunicorn.socket` in the WSGI environ);
2. a TLS terminator in front (nginx `ssl_verify_client on|optional`) that verified the chain and
   passes the certificate URL-encoded in `X-Client-Cert` (`$ssl_client_escaped_cert`): read
   ONLY when the connecting peer is one of SAMENOP_CLIENT_CERT_PROXIES. A certificate is public:
   a header anyone could send would let anyone be any system, so the number of proxies
   (SAMENOP_TRUSTED_PROXIES, enough for a client address) is not enough here.

The app matches the certificate's SHA-256 fingerprint against the registered, unrevoked,
unexpired certificates (registry.clients.operations.authenticate); otherwise 401."""

from __future__ import annotations

import functools
import ipaddress
import ssl
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

from flask import current_app, g, request

from registry.clients import operations as clients
from registry.core import audit
from registry.core.db import db
from registry.web.api import ApiError

F = TypeVar("F", bound=Callable[..., Any])

#: the header a trusted TLS terminator passes the verified client certificate in (URL-encoded PEM)
CERT_HEADER = "X-Client-Cert"
#: optional: the terminator's verdict (nginx `$ssl_client_verify`); anything but SUCCESS refuses
VERIFY_HEADER = "X-Client-Verify"
#: set on a view by `require_client` (read by registry/web/openapi.py)
REQUIRES_CLIENT = "api_requires_client"

_NO_CERTIFICATE = (
    "Dit adres is alleen voor geregistreerde systemen: stuur het clientcertificaat mee (mutual TLS). "
    "Een persoon raadpleegt via POST /api/v1/lookups."
)
_UNREADABLE = "Het clientcertificaat is niet te lezen. Stuur het certificaat zelf mee (PEM)."
_NOT_VERIFIED = "Het clientcertificaat is niet geverifieerd door de TLS-terminator."


def _peer_address() -> str:
    """The address that connected to this server: before ProxyFix rewrote it to the client's."""
    original = request.environ.get("werkzeug.proxy_fix.orig") or {}
    return str(original.get("REMOTE_ADDR") or request.environ.get("REMOTE_ADDR") or "")


def _from_trusted_proxy() -> bool:
    trusted = current_app.config.get("CLIENT_CERT_PROXIES") or ()
    if not trusted:
        return False
    try:
        peer = ipaddress.ip_address(_peer_address())
    except ValueError:
        return False
    return any(peer in network for network in trusted)


def presented_certificate() -> tuple[bytes | None, str]:
    """The DER of the client certificate this request came with, or None and why not."""
    sock = request.environ.get("gunicorn.socket")
    if isinstance(sock, ssl.SSLSocket) and sock.context.verify_mode != ssl.CERT_NONE:
        der = sock.getpeercert(binary_form=True)  # verified against --ca-certs in the handshake
        if der:
            return der, ""
    header = request.headers.get(CERT_HEADER)
    if not header:
        return None, "no_certificate"
    if not _from_trusted_proxy():
        return None, "untrusted_header"  # anyone may write a header: only the terminator's counts
    verdict = request.headers.get(VERIFY_HEADER)
    if verdict is not None and verdict.strip().upper() != "SUCCESS":
        return None, "not_verified"
    der = clients.der_of_pem(unquote(header).encode())
    if der is None:
        return None, "unreadable_certificate"
    return der, ""


_MESSAGES = {
    "no_certificate": _NO_CERTIFICATE,
    "untrusted_header": _NO_CERTIFICATE,
    "not_verified": _NOT_VERIFIED,
    "unreadable_certificate": _UNREADABLE,
}


def _refuse(reason: str, message: str, fingerprint: str = "") -> ApiError:
    rule = request.url_rule.rule if request.url_rule is not None else ""
    detail = {"method": request.method, "route": rule, "reason": reason}
    if fingerprint:
        detail["fingerprint"] = fingerprint
    audit.record_kept(db.session, "api_request", "unauthenticated", role=clients.AUDIT_ROLE, detail=detail)
    return ApiError(401, "unauthenticated", message)


def require_client(view: F) -> F:
    """Only a registered machine client (by its certificate) may call this view; the view gets
    it from `client_caller()`. A person's token does not count: 401 without a certificate.

    The check reads in a read-only transaction that the view's first `db.reading()` continues
    (the signal: the check and the search in one read transaction)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        der, reason = presented_certificate()
        if der is None:
            raise _refuse(reason, _MESSAGES[reason])
        try:
            caller = clients.authenticate(db.begin_reading(), der)
        except clients.ClientRefused as refused:
            raise _refuse(refused.reason, refused.message, clients.fingerprint_of(der)) from None
        g.client_caller = caller
        return view(*args, **kwargs)

    setattr(wrapped, REQUIRES_CLIENT, True)
    return wrapped  # type: ignore[return-value]


def client_caller() -> clients.ClientCaller:
    """Which system sent this request (set by require_client)."""
    caller: clients.ClientCaller = g.client_caller
    return caller
