"""E-mail over SMTP (SAMENOP_SMTP_URL). E-mail is not a safe channel: callers send counts
and links, never names, addresses or narratives.

The connection to the mail server is still protected: `smtps://` is TLS from the first byte,
`smtp://` with credentials or on port 587 (submission, as Microsoft 365 has it) upgrades with
STARTTLS before anything else is said, and both verify the server's certificate and host name
(the system's trust store, or SAMENOP_SMTP_CA_FILE for a private CA). A server that does not
offer STARTTLS, or whose certificate does not verify, gets no mail and no password. Only plain
`smtp://host` without credentials on another port (a relay on the machine or its network)
talks in the clear.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import ParseResult, urlparse

from flask import current_app

SUBMISSION_PORT = 587


class InsecureMailServer(smtplib.SMTPException):
    """The server would not protect the connection: nothing was sent, no password either."""


def configured() -> bool:
    return bool(current_app.config.get("SMTP_URL"))


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Verify the server's certificate chain and host name (TLS 1.2 at least)."""
    context = ssl.create_default_context(cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def requires_starttls(url: ParseResult) -> bool:
    """smtp:// with credentials, or on the submission port, must upgrade before it speaks."""
    return url.scheme == "smtp" and (bool(url.username) or url.port == SUBMISSION_PORT)


def send(recipients: list[str], subject: str, body: str, auto_submitted: bool = False) -> None:
    """Send one message. `auto_submitted`: sent by the machine, not a person (RFC 3834), so that
    an on-call mailbox's vacation reply does not answer it."""
    url = urlparse(current_app.config["SMTP_URL"])
    sender = str(current_app.config["MAIL_FROM"])
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    if auto_submitted:
        message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    context = tls_context(current_app.config.get("SMTP_CA_FILE"))
    host = url.hostname or "127.0.0.1"
    smtp: Any
    if url.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(host, url.port or 465, timeout=30, context=context)
    else:
        smtp = smtplib.SMTP(host, url.port or 25, timeout=30)
    with smtp:
        if requires_starttls(url):
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise InsecureMailServer(
                    f"SAMENOP_SMTP_URL: {host} does not offer STARTTLS; refusing to send "
                    "credentials or mail in the clear"
                )
            smtp.starttls(context=context)  # raises ssl.SSLError on a certificate that does not verify
            smtp.ehlo()
        if url.username:
            # only over TLS: smtps from the start, or smtp after the upgrade above
            if not isinstance(smtp.sock, ssl.SSLSocket):
                raise InsecureMailServer("SAMENOP_SMTP_URL: refusing to log in without TLS")
            smtp.login(url.username, url.password or "")
        smtp.send_message(message)
