"""Machine clients: the registered systems of responder organisations (a control room's incident
system), each known by the fingerprints of its client certificates (mutual TLS)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import Base
from registry.core.models.types import UTCDateTime
from registry.core.timeutil import utcnow

if TYPE_CHECKING:
    from registry.core.models.network import Organisation


class MachineClient(Base):
    """A system of a responder organisation (police, CIT, Veilig Thuis) that asks for signals on
    its own. It acts for its organisation, never as a person: it cannot look a plan up."""

    __tablename__ = "machine_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # who registered it (the administrator's login on the machine that ran `samenop client add`)
    created_by: Mapped[str] = mapped_column(String(64))
    # a revoked client is refused whatever certificate it shows
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship()
    certificates: Mapped[list[ClientCertificate]] = relationship(
        back_populates="client", order_by="ClientCertificate.id"
    )


class ClientCertificate(Base):
    """One certificate of a client, by the SHA-256 of its DER encoding. A client has several
    while it rotates: the new one is added, the old one works until it is revoked or expires."""

    __tablename__ = "client_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("machine_clients.id"), index=True)
    # lower-case hex, 64 characters: what the request's certificate is matched on
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(300))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[MachineClient] = relationship(back_populates="certificates")
