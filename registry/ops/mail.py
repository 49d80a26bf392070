"""E-mail over SMTP (SAMENOP_SMTP_URL). E-mail is not a safe channel: callers send counts
and links, never names, addresses or narratives."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import urlparse

from flask import current_app


def configured() -> bool:
    return bool(current_app.config.get("SMTP_URL"))


def send(recipients: list[str], subject: str, body: str) -> None:
    url = urlparse(current_app.config["SMTP_URL"])
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with smtp_class(
        url.hostname or "127.0.0.1", url.port or (465 if url.scheme == "smtps" else 25), timeout=30
    ) as smtp:
        if url.username:
            smtp.login(url.username, url.password or "")
        smtp.send_message(message)
