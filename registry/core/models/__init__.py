"""The data model of the whole product, one module per aggregate; import models from here."""

from registry.core.models.accounts import (
    ApiToken,
    LoginSourceThrottle,
    LoginThrottle,
    User,
    UserRole,
    WebSession,
)
from registry.core.models.audit import AuditEntry, AuditHead
from registry.core.models.lookups import Lookup, LookupCandidate, LookupFlag, LookupResult
from registry.core.models.measures import Measure
from registry.core.models.meldingen import (
    FeedbackAcknowledgement,
    Melding,
    Report,
    ReportAgreement,
    ReportAmendment,
    SpoedEscalation,
)
from registry.core.models.network import ClosedDay, Gemeente, Organisation, Region
from registry.core.models.plans import (
    Address,
    Agreement,
    Contact,
    Person,
    Plan,
    PlanChange,
    PlanShare,
    PlanVersion,
)
from registry.core.models.types import MAX_ID, UTCDateTime

__all__ = [
    "Address",
    "Agreement",
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "ClosedDay",
    "Contact",
    "FeedbackAcknowledgement",
    "Gemeente",
    "LoginSourceThrottle",
    "LoginThrottle",
    "Lookup",
    "LookupCandidate",
    "LookupFlag",
    "LookupResult",
    "MAX_ID",
    "Measure",
    "Melding",
    "Organisation",
    "Person",
    "Plan",
    "PlanChange",
    "PlanShare",
    "PlanVersion",
    "Region",
    "Report",
    "ReportAgreement",
    "ReportAmendment",
    "SpoedEscalation",
    "UTCDateTime",
    "User",
    "UserRole",
    "WebSession",
]
