"""The users' own Dutch words for the contract's codes (shared/UI-NL.md)."""

from __future__ import annotations

ROLE_LABELS = {
    "registrant": "Regiehouder (handelingskaders invoeren)",
    "responder": "Meldkamer / CIT (raadplegen en inzet registreren)",
    "coordinator": "Coördinator (accounts en monitoring)",
    "auditor": "Privacyfunctionaris (logboek)",
}

ORGANISATION_KIND_LABELS = {
    "police": "Politie",
    "cit": "CIT/crisisdienst",
    "veilig_thuis": "Veilig Thuis",
    "youth_protection": "Jeugdbescherming",
    "social_team": "Wijkteam",
    "other": "Overig",
}

ADDRESS_ROLE_LABELS = {
    "residence": "Woonadres",
    "safe_address": "Opvangadres (veilig adres)",
    "perpetrator_address": "Adres pleger",
    "other": "Overig adres",
}

PERSON_ROLE_LABELS = {
    "victim": "Slachtoffer",
    "child": "Kind",
    "parent": "Ouder/verzorger",
    "perpetrator": "Pleger",
    "other": "Overig",
}

RISK_SIGNAL_LABELS = {
    "weapons": "Wapenbezit",
    "firearm": "Vuurwapen",
    "strangulation": "Wurging",
    "threat_to_kill": "Doodsbedreiging",
    "stalking": "Stalking",
    "substance_abuse": "Middelengebruik",
    "psychiatric": "Psychiatrische problematiek",
    "honour_related": "Eergerelateerd",
    "prior_violence": "Eerder geweld",
}

FAMILY_PROFILE_LABELS = {
    "intimate_terror": "Intiem terreur",
    "family_in_stress": "Gezin in de stress",
    "child_behaviour_parenting_stress": "Kindgedrag en opvoedstress",
    "long_term_care": "Langdurige zorg",
    "complex_divorce": "Complexe scheiding",
}

ACTOR_LABELS = {
    "police": "Politie",
    "cit": "CIT/crisisdienst",
    "veilig_thuis": "Veilig Thuis",
    "youth_protection": "Jeugdbescherming",
    "social_team": "Wijkteam",
    "network": "Netwerk (familie, buren)",
    "other": "Overig",
}

PLAN_STATUS_LABELS = {"active": "Actief", "withdrawn": "Ingetrokken", "expired": "Verlopen"}

MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip
WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")

REPORT_MODE_LABELS = {
    "phone_advice": "Telefonisch advies",
    "joint_assessment": "Gezamenlijke beoordeling",
    "remote_intervention": "Interventie op afstand",
    "on_site_intervention": "Interventie ter plaatse",
}

RESPONDER_LABELS = {
    "police": "Politie",
    "cit": "CIT",
    "veilig_thuis": "Veilig Thuis",
    "youth_protection": "Jeugdbescherming (SEZ)",
    "mental_health": "GGZ",
    "other": "Overig",
}

OUTCOME_LABELS = {
    "followed": "Uitgevoerd",
    "not_followed": "Niet uitgevoerd",
    "not_applicable": "Niet van toepassing",
}

ACTION_LABELS = {
    "arrest": "Aanhouding",
    "temporary_restraining_order": "Tijdelijk huisverbod",
    "children_with_network": "Kinderen bij netwerk",
    "shelter": "Opvang",
    "vt_report_filed": "VT-melding gedaan",
    "forensic_exam": "Forensisch onderzoek",
    "other": "Overig",
}

VIOLENCE_TYPE_LABELS = {
    "partner_violence": "(Ex-)partnergeweld/conflictscheiding",
    "child_abuse": "Kindermishandeling/ontwikkelingsbedreiging",
    "parent_abuse": "Oudermishandeling (kind naar ouder)",
    "honour_based": "Eergerelateerd geweld",
    "forced_marriage": "Huwelijksdwang",
    "elder_abuse": "Ouderenmishandeling (65+)",
    "other_domestic": "Overig huiselijk geweld",
}

HOUSEHOLD_TYPE_LABELS = {
    "minor_children": "Gezin met minderjarige kinderen",
    "adult_children": "Gezin met meerderjarige kinderen",
    "no_children": "Huishouden zonder kinderen",
}

CARE_INVOLVEMENT_LABELS = {
    "none": "Geen betrokken hulpverlening",
    "informed_by_phone": "Telefonisch geïnformeerd",
    "present": "Aanwezig tijdens/na interventie",
}

MENTAL_HEALTH_SERVICE_LABELS = {
    "adult": "Inzet GGZ volwassenen",
    "youth": "Inzet GGZ jeugd",
    "not_needed": "Geen inzet GGZ nodig",
}

UNREGISTERED = "Niet geregistreerd"
