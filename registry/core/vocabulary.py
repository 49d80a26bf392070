"""The contract's vocabularies (docs/api.md), each code beside the users' own Dutch word (docs/words.md).

One `Vocabulary` enum per vocabulary: a member is its code (a `str`, so the API, the database and
comparisons see exactly the code) and carries its Dutch `label`, which is what the pages show.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class Vocabulary(StrEnum):
    """A code vocabulary; members are declared `CODE = "code", "Dutch label"`."""

    _value_: str
    label: str

    def __new__(cls, code: str, label: str) -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        """The codes as plain strings, in their declared order (the API's enum, the CLI's choices)."""
        return tuple(member.value for member in cls)

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Code -> Dutch label, in the declared order."""
        return {member.value: member.label for member in cls}

    @classmethod
    def label_of(cls, code: str) -> str:
        """The Dutch label of a code; a code the vocabulary does not know is shown as it is. A dict
        lookup, not a walk over the members: a page of 50 feedback items asks it hundreds of times."""
        member = cls._value2member_map_.get(code)
        return member.label if isinstance(member, cls) else code


class OrganisationKind(Vocabulary):
    POLICE = "police", "Politie"
    CIT = "cit", "CIT/crisisdienst"
    VEILIG_THUIS = "veilig_thuis", "Veilig Thuis"
    YOUTH_PROTECTION = "youth_protection", "Jeugdbescherming"
    SOCIAL_TEAM = "social_team", "Wijkteam"
    OTHER = "other", "Overig"


class Role(Vocabulary):
    REGISTRANT = "registrant", "Regiehouder (handelingskaders invoeren)"
    RESPONDER = "responder", "Meldkamer / CIT (raadplegen en inzet registreren)"
    COORDINATOR = "coordinator", "Coördinator (accounts en monitoring)"
    AUDITOR = "auditor", "Privacyfunctionaris (logboek)"
    # the region's network (gemeente, police, VT, SEZ together): counts across the region only
    REGION_MONITOR = "region_monitor", "Taakgroep (regionale monitoring)"


class StatisticsScope(Vocabulary):
    """Whose figures Monitoring counts (`?scope=`); the region is labelled by its name on the page."""

    ORGANISATION = "organisation", "Mijn organisatie"
    REGION = "region", "Regio"


class FeedbackShown(Vocabulary):
    """Which open items Terugkoppeling and GET /feedback show (`?show=`): all of them, those past
    their terugkoppeldag or spoed deadline, or the spoedmeldingen."""

    OPEN = "open", "Open"
    LATE = "late", "Te laat"
    SPOED = "spoed", "Spoed"


class PlanStatus(Vocabulary):
    ACTIVE = "active", "Actief"
    WITHDRAWN = "withdrawn", "Ingetrokken"
    EXPIRED = "expired", "Verlopen"


class AddressRole(Vocabulary):
    RESIDENCE = "residence", "Woonadres"
    SAFE_ADDRESS = "safe_address", "Opvangadres (veilig adres)"
    PERPETRATOR_ADDRESS = "perpetrator_address", "Adres pleger"
    OTHER = "other", "Overig adres"


class PersonRole(Vocabulary):
    VICTIM = "victim", "Slachtoffer"
    CHILD = "child", "Kind"
    PARENT = "parent", "Ouder/verzorger"
    PERPETRATOR = "perpetrator", "Pleger"
    OTHER = "other", "Overig"


class Actor(Vocabulary):
    """Who carries out an agreement of a plan."""

    POLICE = "police", "Politie"
    CIT = "cit", "CIT/crisisdienst"
    VEILIG_THUIS = "veilig_thuis", "Veilig Thuis"
    YOUTH_PROTECTION = "youth_protection", "Jeugdbescherming"
    SOCIAL_TEAM = "social_team", "Wijkteam"
    NETWORK = "network", "Netwerk (familie, buren)"
    OTHER = "other", "Overig"


class RiskSignal(Vocabulary):
    WEAPONS = "weapons", "Wapenbezit"
    FIREARM = "firearm", "Vuurwapen"
    STRANGULATION = "strangulation", "Wurging"
    THREAT_TO_KILL = "threat_to_kill", "Doodsbedreiging"
    STALKING = "stalking", "Stalking"
    SUBSTANCE_ABUSE = "substance_abuse", "Middelengebruik"
    PSYCHIATRIC = "psychiatric", "Psychiatrische problematiek"
    HONOUR_RELATED = "honour_related", "Eergerelateerd"
    PRIOR_VIOLENCE = "prior_violence", "Eerder geweld"


class FamilyProfile(Vocabulary):
    INTIMATE_TERROR = "intimate_terror", "Intiem terreur"
    FAMILY_IN_STRESS = "family_in_stress", "Gezin in de stress"
    CHILD_BEHAVIOUR_PARENTING_STRESS = "child_behaviour_parenting_stress", "Kindgedrag en opvoedstress"
    LONG_TERM_CARE = "long_term_care", "Langdurige zorg"
    COMPLEX_DIVORCE = "complex_divorce", "Complexe conflictscheiding"


class MeasureKind(Vocabulary):
    """Lopende maatregelen: a measure in force around a family (a plan's `measures`)."""

    TEMPORARY_RESTRAINING_ORDER = "temporary_restraining_order", "Tijdelijk huisverbod"
    CONTACT_BAN = "contact_ban", "Contactverbod"
    LOCATION_BAN = "location_ban", "Locatieverbod"
    SUPERVISION_ORDER = "supervision_order", "Ondertoezichtstelling (OTS)"
    SUPERVISION_WITH_PLACEMENT = "supervision_with_placement", "Ondertoezichtstelling met uithuisplaatsing"
    CUSTODY = "custody", "Gezag"


class QueryKind(Vocabulary):
    """What a lookup searched on; the label completes "… gevonden op <label>"."""

    ADDRESS = "address", "postcode en huisnummer"
    ADDRESS_TEXT = "address_text", "adres"
    PERSON = "person", "persoon"
    PHONE = "phone", "telefoonnummer"
    # one plan opened from the candidates of a name without a birth date: not a search field
    CANDIDATE = "candidate", "naam, gekozen uit de kandidaten"

    @classmethod
    def searched(cls) -> tuple[str, ...]:
        """The kinds a lookup searches on: one field each in the lookup's input."""
        return tuple(code for code in cls.codes() if code != cls.CANDIDATE)


class AccessKind(Vocabulary):
    """What an entry of a plan's access log (Toegangslog) is: a lookup by a person, who saw the
    plan, or a signal to a control room's system that nobody has opened (content-free: it said
    only that a handelingskader is there)."""

    LOOKUP = "lookup", "raadpleging"
    SIGNAL = "signal", "signaal, geen inzage"


class FlagRule(Vocabulary):
    """Why a user's lookups of one day were flagged for the privacy officer
    (registry.privacy.flags, the thresholds in docs/privacy.md)."""

    MANY_LOOKUPS = "many_lookups", "Veel raadplegingen binnen een uur"
    MANY_NAME_ONLY = "many_name_only", "Veel zoekvragen op alleen een naam"
    WITHOUT_REPORT = "without_report", "Raadplegingen met resultaat zonder geregistreerde inzet"
    OFF_HOURS = "off_hours", "Raadplegingen buiten de gebruikelijke uren"
    LIMIT_REACHED = "limit_reached", "Limiet van raadplegingen per uur bereikt"


class MatchQuality(Vocabulary):
    EXACT = "exact", "Precies gevonden"
    BUILDING = "building", "Zelfde huisnummer, andere toevoeging"
    FUZZY = "fuzzy", "Lijkt op de zoekvraag"  # the page adds the score: (87%)


class MatchedOn(Vocabulary):
    """What of a plan a lookup found it on; the label begins "Gevonden op …" ("telefoon van …")."""

    ADDRESS = "address", "adres"
    PHONE = "phone", "telefoon"
    NAME = "name", "naam"


class ReportMode(Vocabulary):
    PHONE_ADVICE = "phone_advice", "Telefonisch advies"
    JOINT_ASSESSMENT = "joint_assessment", "Gezamenlijke beoordeling"
    REMOTE_INTERVENTION = "remote_intervention", "Interventie op afstand"
    ON_SITE_INTERVENTION = "on_site_intervention", "Interventie ter plaatse"


class Responder(Vocabulary):
    """Who went out on an incident (a report's responders).

    The youth crisis service is one code, `cit`, whatever the region calls it (CIT, or SEZ:
    Spoedeisende Zorg); `youth_protection` is the family's own jeugdbeschermer. Reports from
    before 20261207 that said `youth_protection` for SEZ were moved to `cit` by migration
    b5d3e8a1c7f2."""

    POLICE = "police", "Politie"
    CIT = "cit", "CIT / SEZ (spoedeisende zorg jeugd)"
    VEILIG_THUIS = "veilig_thuis", "Veilig Thuis"
    YOUTH_PROTECTION = "youth_protection", "Jeugdbeschermer"
    MENTAL_HEALTH = "mental_health", "GGZ"
    OTHER = "other", "Overig"


class TypeInzet(Vocabulary):
    """The pilots' type of inzet of a melding (Monitoring), derived from the responders of all
    its reports and its most intensive mode (registry.statistics.operations.type_inzet)."""

    VT_PHONE_ADVICE = "vt_phone_advice", "VT telefonisch advies aan politie"
    VT_ON_SITE_WITH_POLICE = "vt_on_site_with_police", "VT interventie ter plaatse, samen met politie"
    VT_REMOTE = "vt_remote", "VT interventie op afstand richting gezin/huishouden"
    VT_SEZ_JOINT_ASSESSMENT = "vt_sez_joint_assessment", "Gezamenlijke VT/SEZ afstemming/beoordeling"
    VT_SEZ_ON_SITE = "vt_sez_on_site", "Gezamenlijke VT/SEZ interventie ter plaatse"
    SEZ_ON_SITE_WITH_POLICE = "sez_on_site_with_police", "SEZ interventie ter plaatse, samen met politie"
    SEZ_REMOTE = "sez_remote", "SEZ interventie op afstand richting gezin"
    OTHER = "other", "Overig"


class ViolenceType(Vocabulary):
    PARTNER_VIOLENCE = "partner_violence", "(Ex) partnergeweld/conflictscheiding"
    CHILD_ABUSE = "child_abuse", "Kindermishandeling/ontwikkelingsbedreiging"
    PARENT_ABUSE = "parent_abuse", "Oudermishandeling (kind naar ouder)"
    HONOUR_BASED = "honour_based", "Eergerelateerd geweld"
    FORCED_MARRIAGE = "forced_marriage", "Huwelijksdwang"
    ELDER_ABUSE = "elder_abuse", "Ouderenmishandeling (65+)"
    OTHER_DOMESTIC = "other_domestic", "Overig huiselijk geweld"


class HouseholdType(Vocabulary):
    MINOR_CHILDREN = "minor_children", "Gezin met minderjarige kinderen"
    ADULT_CHILDREN = "adult_children", "Gezin met meerderjarige kinderen"
    NO_CHILDREN = "no_children", "Huishouden zonder kinderen"


class CareInvolvement(Vocabulary):
    NONE = "none", "Geen betrokken hulpverlening"
    INFORMED_BY_PHONE = "informed_by_phone", "Telefonisch geïnformeerd"
    PRESENT = "present", "Aanwezig tijdens/na interventie"


class MentalHealthService(Vocabulary):
    ADULT = "adult", "Inzet GGZ volwassenen"
    YOUTH = "youth", "Inzet GGZ jeugd"
    NOT_NEEDED = "not_needed", "Geen inzet GGZ nodig"


class AgreementOutcome(Vocabulary):
    FOLLOWED = "followed", "Uitgevoerd"
    NOT_FOLLOWED = "not_followed", "Niet uitgevoerd"
    NOT_APPLICABLE = "not_applicable", "Niet van toepassing"


class Action(Vocabulary):
    """What was done during an incident (a report's actions)."""

    ARREST = "arrest", "Aanhouding"
    TEMPORARY_RESTRAINING_ORDER = "temporary_restraining_order", "Tijdelijk huisverbod"
    CHILDREN_WITH_NETWORK = "children_with_network", "Kinderen bij netwerk"
    SHELTER = "shelter", "Opvang"
    VT_REPORT_FILED = "vt_report_filed", "VT-melding gedaan"
    FORENSIC_EXAM = "forensic_exam", "Forensisch onderzoek"
    OTHER = "other", "Overig"


class ProposalOutcome(Vocabulary):
    """The owners' decision on the agreements and contacts a responder proposed with a report."""

    ACCEPTED = "accepted", "Overgenomen in het handelingskader"
    DECLINED = "declined", "Niet overgenomen"


class AssessmentSection(Vocabulary):
    """The five core questions of an acute assessment (Samen op in analyse): the sections of a
    melding's shared record, which every partner adds to instead of asking again. Each carries its
    sub-questions as a `hint` for the form."""

    HAPPENED = "happened", "Wat is er gebeurd?"
    KNOWN = "known", "Wat is er bekend?"
    SAFE_NOW = "safe_now", "Is het NU veilig?"
    NEEDED_NOW = "needed_now", "Wat moet er NU gebeuren?"
    INVOLVED = "involved", "Wie zijn betrokken en hoe staan zij erin?"

    @property
    def hint(self) -> str:
        """The section's sub-questions, as the form shows them under its label."""
        return ASSESSMENT_HINTS[self.value]


ASSESSMENT_HINTS = {
    "happened": "De acute crisis, de aanleiding, een vermoedelijk strafbaar feit; wie deed wat bij wie; "
    "de eerste en de ergste keer.",
    "known": "Voorgeschiedenis, betrokken hulpverlening, specifieke signalen (psychiatrie, wapens, "
    "alcohol of drugs, signalen bij kinderen).",
    "safe_now": "Voor de betrokkenen en voor de professionals; beschermende factoren; sporen om veilig "
    "te stellen; wat gebeurt er als er niets gebeurt?",
    "needed_now": "Binnen een half uur, een dag, een week; wie in het netwerk kan helpen; een veilige plek.",
    "involved": "Wat vinden zij nodig en wat willen zij; wie is er meestal in de buurt?",
}


class TaskKind(Vocabulary):
    """A follow-up task's clock (Opvolging): what the practice expects after a melding, and by when
    (registry.tasks.operations)."""

    CONTACT_FAMILY = "contact_family", "Contact met gezin binnen 48 uur"
    HANDOVER = "handover", "Overdracht binnen 24 uur"
    RESTRAINING_ORDER_END = "restraining_order_end", "Einde huisverbod"


# not code vocabularies: words the pages use


UNREGISTERED = "Niet geregistreerd"


class AuditAction(Vocabulary):
    """What an audit row records (registry.core.audit.record refuses any other code), as the
    privacy officer's Logboek names it."""

    ADDRESS_REVEAL = "address_reveal", "Geheim adres getoond"
    API_REQUEST = "api_request", "API-verzoek"
    ASSESSMENT_ADD = "assessment_add", "Kernvragen van een melding aangevuld"
    AUDIT_SEARCH = "audit_search", "Logboek doorzocht"
    CLIENT_ADD = "client_add", "Systeem (machineclient) geregistreerd"
    CLIENT_LIST = "client_list", "Systemen (machineclients) bekeken"
    CLIENT_REVOKE = "client_revoke", "Systeem of certificaat ingetrokken"
    CLIENT_ROTATE = "client_rotate", "Nieuw certificaat van een systeem"
    CLOSED_DAY_ADD = "closed_day_add", "Gesloten dag toegevoegd"
    CLOSED_DAY_REMOVE = "closed_day_remove", "Gesloten dag verwijderd"
    DEMO_CREATE = "demo_create", "Demogegevens aangemaakt"
    ENROLMENT = "enrolment", "Account geactiveerd"
    FEEDBACK_ACKNOWLEDGE = "feedback_acknowledge", "Terugkoppeling gelezen en opgepakt"
    FEEDBACK_DIGEST = "feedback_digest", "Dagoverzicht terugkoppeling gemaild"
    FEEDBACK_ESCALATE = "feedback_escalate", "Te late spoedmeldingen gemaild aan coördinatoren"
    FEEDBACK_LIST = "feedback_list", "Terugkoppeling bekeken"
    FEEDBACK_OVERDUE_LIST = "feedback_overdue_list", "Te late terugkoppeling bekeken"
    GEMEENTE_CREATE = "gemeente_create", "Gemeente toegevoegd"
    GEMEENTE_IMPORT = "gemeente_import", "Gemeenten ingelezen"
    LOGIN = "login", "Inloggen"
    LOGOUT = "logout", "Uitloggen"
    LOOKUP = "lookup", "Raadpleging"
    LOOKUP_FLAG_CLOSE = "lookup_flag_close", "Signalering gesloten"
    LOOKUP_FLAGS = "lookup_flags", "Signaleringen bekeken"
    MELDING_FORM = "melding_form", "Meldingsformulier geopend"
    MELDING_READ = "melding_read", "Melding (vijf kernvragen) bekeken"
    ORGANISATION_CREATE = "organisation_create", "Organisatie toegevoegd"
    ORGANISATION_INCIDENT_REF_FORMAT = "organisation_incident_ref_format", "Formaat meldingnummers ingesteld"
    ORGANISATION_SPOED_EMAIL = "organisation_spoed_email", "Spoedadres ingesteld"
    PAGE_REQUEST = "page_request", "Pagina opgevraagd"
    PLAN_ACCESS_LOG = "plan_access_log", "Toegangslog bekeken"
    PLAN_CREATE = "plan_create", "Handelingskader aangemaakt"
    PLAN_EXPIRE = "plan_expire", "Handelingskader verlopen"
    PLAN_LIST = "plan_list", "Handelingskaders bekeken"
    PLAN_READ = "plan_read", "Handelingskader bekeken"
    PLAN_SHARE = "plan_share", "Handelingskader gedeeld"
    PLAN_SHARES = "plan_shares", "Delen bekeken"
    PLAN_UNSHARE = "plan_unshare", "Delen ingetrokken"
    PLAN_UPDATE = "plan_update", "Handelingskader gewijzigd"
    PLAN_WITHDRAW = "plan_withdraw", "Handelingskader ingetrokken"
    PROPOSAL_ACCEPT = "proposal_accept", "Voorgestelde afspraken overgenomen in het handelingskader"
    PROPOSAL_DECLINE = "proposal_decline", "Voorgestelde afspraken niet overgenomen"
    PROPOSAL_READ = "proposal_read", "Voorgestelde afspraken geopend in het handelingskader"
    PURGE = "purge", "Bewaartermijn verstreken: persoonsgegevens verwijderd"
    REGION_CREATE = "region_create", "Regio toegevoegd"
    REPORT_AMEND = "report_amend", "Aanvulling op een inzet"
    REPORT_CREATE = "report_create", "Inzet geregistreerd"
    REPORT_FORM = "report_form", "Inzetformulier geopend"
    REPORT_READ = "report_read", "Inzet bekeken"
    REPORTS_ANSWERED = "reports_answered", "Teruggekoppeld bekeken"
    SIGNAL = "signal", "Signaal aan een meldkamersysteem (zonder inhoud)"
    STATISTICS = "statistics", "Monitoring bekeken"
    TASK_DONE = "task_done", "Opvolging afgerond"
    TASK_LIST = "task_list", "Opvolging bekeken"
    USER_CREATE = "user_create", "Account aangemaakt"
    USER_DEACTIVATE = "user_deactivate", "Account gedeactiveerd"
    USER_LIST = "user_list", "Accounts bekeken"
    USER_REENROL = "user_reenrol", "Nieuwe activeringslink (account opnieuw activeren)"
    USER_ROLE_GRANT = "user_role_grant", "Rol toegekend"
    USER_ROLE_REVOKE = "user_role_revoke", "Rol ingetrokken"
    USER_UNLOCK = "user_unlock", "Account ontgrendeld"
    WEBHOOK_ADD = "webhook_add", "Webhook toegevoegd"
    WEBHOOK_DISABLE = "webhook_disable", "Webhook uitgezet"
    WEBHOOK_LIST = "webhook_list", "Webhooks bekeken"
    WEBHOOK_ROTATE = "webhook_rotate", "Nieuw geheim van een webhook"


class AuditOutcome(Vocabulary):
    """How the act an audit row records ended."""

    SUCCESS = "success", "Gelukt"
    MATCH = "match", "Gevonden"
    NO_MATCH = "no_match", "Niets gevonden"
    REFUSED = "refused", "Geweigerd"
    NOT_FOUND = "not_found", "Niet gevonden of geen toegang"
    FORBIDDEN = "forbidden", "Geen toegang"
    UNAUTHENTICATED = "unauthenticated", "Niet aangemeld"
    FAILED = "failed", "Mislukt"
    LOCKED = "locked", "Geblokkeerd"
    CONFLICT = "conflict", "Conflict"
    REPLAYED = "replayed", "Herhaald verzoek"


class OutboxChannel(Vocabulary):
    """How a message in the outbox leaves (registry.ops.outbox): an e-mail to one address, or a
    signed HTTP POST to one organisation's webhook endpoint (registry.ops.webhook)."""

    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class WebhookEvent(Vocabulary):
    """What an organisation's system can be told of by webhook (registry.webhooks, docs/api.md):
    ids and a link only, never a name, address or narrative."""

    FEEDBACK_CREATED = "feedback.created", "Nieuwe terugkoppeling (een inzet op een eigen handelingskader)"
    REPORT_URGENT = "report.urgent", "Spoedmelding"
    ACKNOWLEDGEMENT_CREATED = "acknowledgement.created", "Inzet gelezen en opgepakt"
    PLAN_EXPIRING = "plan.expiring", "Handelingskader verloopt binnenkort"


class OutboxStatus(Vocabulary):
    PENDING = "pending", "Wacht op verzending"
    DELIVERED = "delivered", "Verzonden"
    FAILED = "failed", "Niet te bezorgen"


class JobOutcome(Vocabulary):
    """How the last run of a scheduled job (`samenop worker`) ended."""

    RUNNING = "running", "Bezig"
    SUCCESS = "success", "Gelukt"
    FAILED = "failed", "Mislukt"
    SKIPPED = "skipped", "Overgeslagen"
