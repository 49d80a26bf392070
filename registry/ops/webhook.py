"""Webhooks over HTTP: one signed POST of one outbox row to one endpoint, the Standard Webhooks
way (https://www.standardwebhooks.com), as registry.ops.mail is one e-mail to one address.

Each message carries `webhook-id` (the outbox row's own id, the same on every attempt: the
receiver deduplicates by it), `webhook-timestamp` (this attempt, in seconds: the receiver refuses
old ones, against replays) and `webhook-signature`: `v1,` + base64(HMAC-SHA256(secret,
"{id}.{timestamp}.{body}")), one per secret that signs (the endpoint's, and after a rotation
for a while its previous one too), separated by a space.

What is a failure for now and what for good follows the answer: 2xx is delivered; 408, 429,
5xx, a timeout or a connection that fails are tried again later; any other answer (a 4xx, or a
3xx: redirects are not followed, the endpoint must be registered at its real address) is a
refusal for good. The secrets are stored encrypted under TOTP_KEY (Fernet), the same key as the
TOTP secrets: they must be read back to sign, so they cannot be hashed.
"""

from __future__ import annotations

import base64
import http.client
import secrets
import ssl
import uuid
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's prefix, not a secret
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 random bytes
USER_AGENT = "SamenOp-Webhooks/1"
#: how much of an answer's body is read (and dropped): the status is what counts
ANSWER_LIMIT = 64 * 1024
#: answers that mean "not now": tried again after the backoff
RETRY_STATUSES = frozenset({408, 429})


class WebhookFailed(Exception):
    """An attempt did not deliver; `permanent` when trying again cannot help."""

    def __init__(self, message: str, *, status: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.permanent = permanent


class WebhookKeyError(RuntimeError):
    """TOTP_KEY does not open a stored webhook secret: the wrong key for this database."""


def new_secret() -> str:
    """A new signing secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def new_message_id() -> str:
    """A message's `webhook-id`, chosen once when its outbox row is written."""
    return f"msg_{uuid.uuid4().hex}"


def _fernet() -> Fernet:
    return Fernet(str(current_app.config["TOTP_KEY"]).encode("ascii"))


def seal(secret: str) -> str:
    """The secret encrypted for the database (under TOTP_KEY)."""
    return _fernet().encrypt(secret.encode("ascii")).decode("ascii")


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError):
        raise WebhookKeyError(
            "SAMENOP_TOTP_KEY does not decrypt this webhook secret: the wrong key for this database"
        ) from None


def signature(secrets_: list[str], message_id: str, at: datetime, body: str) -> str:
    """The `webhook-signature` header: `v1,<base64>` per secret, space-separated."""
    return " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets_)


def headers(secrets_: list[str], message_id: str, at: datetime, body: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature(secrets_, message_id, at, body),
    }


def is_permanent_status(status: int) -> bool:
    """Whether an answer that is not 2xx refuses for good (see the module's docstring)."""
    return not (status >= 500 or status in RETRY_STATUSES)


def post(url: str, body: str, headers_: dict[str, str], timeout: float) -> int:
    """POST the body to the URL, without following redirects. -> the 2xx status; WebhookFailed
    otherwise (with the status, or without one when the network failed)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        connection = http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body.encode("utf-8"), headers=headers_)
        answer = connection.getresponse()
        answer.read(ANSWER_LIMIT)
        status = answer.status
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, TLS
        raise WebhookFailed(f"{type(exc).__name__}: {exc}") from None
    finally:
        connection.close()
    if 200 <= status < 300:
        return status
    raise WebhookFailed(f"HTTP {status}", status=status, permanent=is_permanent_status(status))
