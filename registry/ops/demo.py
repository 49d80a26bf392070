"""Synthetic demo organisations and accounts (no real person, address or number anywhere)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import select

from registry.auth import accounts
from registry.core import audit
from registry.core.db import db
from registry.core.models import Organisation, User
from registry.core.vocabulary import OrganisationKind, Role
from registry.feedback.demo import create_demo_reports
from registry.plans.demo import create_demo_plans
from registry.regions import operations as regions

ORGANISATIONS = (
    ("Politie Meldkamer Noord", OrganisationKind.POLICE, "Noord"),
    ("CIT Noord", OrganisationKind.CIT, "Noord"),
    ("Jeugdbescherming Noord", OrganisationKind.YOUTH_PROTECTION, "Noord"),
    ("Wijkteam Oost", OrganisationKind.SOCIAL_TEAM, "Noord"),
    ("Veilig Thuis Noord", OrganisationKind.VEILIG_THUIS, "Noord"),
)

# username, display name, organisation, roles, password (synthetic, demo only)
ACCOUNTS: tuple[tuple[str, str, str, list[str], str], ...] = (
    (
        "meldkamer",
        "M. Meldkamer (demo)",
        "Politie Meldkamer Noord",
        [Role.RESPONDER],
        "demo meldkamer nachtdienst 2026",
    ),
    ("cit", "C. Crisisdienst (demo)", "CIT Noord", [Role.RESPONDER], "demo crisisdienst avondploeg"),
    (
        "jeugdbeschermer",
        "J. Beschermer (demo)",
        "Jeugdbescherming Noord",
        [Role.REGISTRANT],
        "demo jeugdbescherming veilig plan",
    ),
    (
        "wijkteam",
        "W. Wijkwerker (demo)",
        "Wijkteam Oost",
        [Role.REGISTRANT],
        "demo wijkteam ochtend terugkoppeling",
    ),
    (
        "coordinator",
        "C. Coördinator (demo)",
        "Jeugdbescherming Noord",
        [Role.COORDINATOR, Role.REGISTRANT],
        "demo coordinator accounts beheer",
    ),
    (
        "privacy",
        "P. Functionaris (demo)",
        "Veilig Thuis Noord",
        [Role.AUDITOR],
        "demo privacy logboek controle",
    ),
    (
        "veiligthuis",
        "V. Thuiswerker (demo)",
        "Veilig Thuis Noord",
        [Role.REGISTRANT, Role.COORDINATOR],
        "demo veilig thuis acute meldingen",
    ),
    (
        "taakgroep",
        "T. Taakgroeplid (demo)",
        "Wijkteam Oost",
        [Role.REGION_MONITOR],
        "demo taakgroep regionale cijfers",
    ),
)

# region Noord's gemeenten (the demo plans' cities), with invented round populations
GEMEENTEN = (
    ("Assen", 70000),
    ("Emmen", 107000),
    ("Hoogeveen", 56000),
    ("Meppel", 35000),
    ("Coevorden", 35000),
)
# the control room's meldingnummers: a lookup with another number is refused (docs/privacy.md)
POLICE_INCIDENT_REFS = (r"P-\d{4}-\d{4,6}", "P-2026-0412")


def _logins_file() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "demo-logins.txt"


def load_or_create() -> str:
    """Create the demo data once; afterwards show the same logins again."""
    path = _logins_file()
    if db.session.scalars(select(Organisation)).first() is not None:
        if path.exists():
            return path.read_text()
        return "the database already holds data; no demo logins to show"
    text = create()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
    return text


def create() -> str:
    session = db.session
    organisations = {
        name: accounts.create_organisation(session, name, kind, region)
        for name, kind, region in ORGANISATIONS
    }
    regions.set_veilig_thuis(session, regions.find_or_add(session, "Noord"), "Veilig Thuis Noord")
    for gemeente, population in GEMEENTEN:
        regions.add_gemeente(session, "Noord", gemeente, population)
    accounts.set_incident_ref_format(organisations["Politie Meldkamer Noord"], *POLICE_INCIDENT_REFS)
    lines = [
        "Demo logins (synthetic; log in at http://127.0.0.1:8000/login).",
        "Add the TOTP secret to an authenticator app, or print the current code with:",
        '  .venv/bin/python -c "import pyotp,sys; print(pyotp.TOTP(sys.argv[1]).now())" SECRET',
        "",
        f"{'username':<16} {'password':<38} {'roles':<24} totp_secret",
    ]
    for username, name, org_name, roles, password in ACCOUNTS:
        user = accounts.create_user(session, username, organisations[org_name], roles, display_name=name)
        accounts.set_password(session, user, password)
        secret = accounts.provision_totp(user)
        user.enrolled_at = user.password_changed_at
        lines.append(f"{username:<16} {password:<38} {','.join(roles):<24} {secret}")
    registrant = session.scalars(select(User).where(User.username == "jeugdbeschermer")).one()
    create_demo_plans(session, registrant)
    responders = list(session.scalars(select(User).where(User.username.in_(["meldkamer", "cit"]))))
    create_demo_reports(session, responders, registrant, current_app.config["TIMEZONE"])
    audit.record(session, "demo_create", "success", username="cli")
    db.commit()
    lines += [
        "",
        f"The control room's meldingnummers look like {POLICE_INCIDENT_REFS[1]}; a name alone lists "
        "candidates, a name with a birth date shows the plan.",
    ]
    return "\n".join(lines) + "\n"
