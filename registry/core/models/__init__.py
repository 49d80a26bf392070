"""The data model of the whole product, one module per aggregate; import models from here."""

from registry.core.models.accounts import (
    ApiToken,
    LoginSourceThrottle,
    LoginThrottle,
    User,
    UserRole,
    WebSession,
)
from registry.core.models.assessment import AssessmentAddition
from registry.core.models.audit import AuditEntry, AuditHead
from registry.core.models.clients import ClientCertificate, MachineClient
from registry.core.models.jobs import JobRun
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
from registry.core.models.outbox import OutboxMessage
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
from registry.core.models.proposals import ProposalDecision, ProposedAgreement, ProposedContact
from registry.core.models.signals import Signal, SignalResult
from registry.core.models.tasks import FollowUpTask
from registry.core.models.types import MAX_ID, UTCDateTime
from registry.core.models.webhooks import WebhookEndpoint

__all__ = [
    "Address",
    "Agreement",
    "ApiToken",
    "AssessmentAddition",
    "AuditEntry",
    "AuditHead",
    "ClientCertificate",
    "ClosedDay",
    "Contact",
    "FeedbackAcknowledgement",
    "FollowUpTask",
    "Gemeente",
    "JobRun",
    "LoginSourceThrottle",
    "LoginThrottle",
    "Lookup",
    "LookupCandidate",
    "LookupFlag",
    "LookupResult",
    "MAX_ID",
    "MachineClient",
    "Measure",
    "Melding",
    "Organisation",
    "OutboxMessage",
    "Person",
    "Plan",
    "PlanChange",
    "PlanShare",
    "PlanVersion",
    "ProposalDecision",
    "ProposedAgreement",
    "ProposedContact",
    "Region",
    "Report",
    "ReportAgreement",
    "ReportAmendment",
    "Signal",
    "SignalResult",
    "SpoedEscalation",
    "UTCDateTime",
    "User",
    "UserRole",
    "WebSession",
    "WebhookEndpoint",
]
