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
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import ParseResult, urlparse

from flask import current_app

SUBMISSION_PORT = 587
TIMEOUT = 30  # seconds, for each step of the conversation with the mail server


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


def new_message_id(sender: str) -> str:
    """A new Message-ID in the sender's domain: chosen once per outbox row, so that every attempt
    to deliver the row carries the same one."""
    return make_msgid(domain=sender.rpartition("@")[2] or "localhost")


def send(
    recipient: str,
    subject: str,
    body: str,
    *,
    message_id: str | None = None,
    date: datetime | None = None,
) -> None:
    """Send one message to one recipient (nobody sees who else got it). It is marked
    Auto-Submitted (RFC 3834): sent by the machine, so that an on-call mailbox's vacation reply
    does not answer it. `message_id` and `date` come from the outbox row, the same on a retry."""
    url = urlparse(current_app.config["SMTP_URL"])
    sender = str(current_app.config["MAIL_FROM"])
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate((date or datetime.now(UTC)).timestamp(), localtime=False, usegmt=True)
    message["Message-ID"] = message_id or new_message_id(sender)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    context = tls_context(current_app.config.get("SMTP_CA_FILE"))
    host = url.hostname or "127.0.0.1"
    smtp: Any
    if url.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(host, url.port or 465, timeout=TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(host, url.port or 25, timeout=TIMEOUT)
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
        smtp.send_message(message, from_addr=sender, to_addrs=[recipient])


def is_permanent(error: BaseException) -> bool:
    """Whether trying again cannot help: the server refused the recipient or the message for
    good (a 5xx answer). A connection that failed, a 4xx answer, a certificate that did not
    verify (until someone fixes it) are tried again."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500 and not isinstance(error, smtplib.SMTPAuthenticationError)
    return False
