"""The `samenop` command line: the scripted provisioning path of the contract, end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask

from registry.app import create_app
from registry.ops.cli import init, org_add, user_add
from tests.conftest import FAST_HASH, close_app, csrf_from

PASSWORD = "nachtdienst zonder koffie gaat niet"
TOTP_LINE = re.compile(r"^totp_secret: ([A-Z2-7]{32})$")


@pytest.fixture
def fresh_app(app_config: dict[str, Any], empty_database_url: str) -> Iterator[Flask]:
    """The app on a database without a single table, as on the first day."""
    application = create_app({**app_config, "DATABASE_URL": empty_database_url})
    yield application
    close_app(application)


def run(app: Flask, command: Any, *args: str, stdin: str | None = None) -> Any:
    return app.test_cli_runner().invoke(command, list(args), input=stdin)


def ask_token(app: Flask, username: str, password: str, secret: str) -> Any:
    return app.test_client().post(
        "/api/v1/auth/token",
        json={"username": username, "password": password, "otp": pyotp.TOTP(secret).now()},
    )


def test_scripted_provisioning_then_token(fresh_app):
    # Given an empty database
    # When an administrator runs init, org add and user add --password-stdin --print-totp-secret
    result = run(fresh_app, init)
    assert result.exit_code == 0, result.output
    result = run(fresh_app, org_add, "Meldkamer Oost", "--kind", "police", "--region", "Oost")
    assert result.exit_code == 0, result.output
    result = run(
        fresh_app,
        user_add,
        "meldkamer.oost1",
        "--org",
        "Meldkamer Oost",
        "--role",
        "responder",
        "--password-stdin",
        "--print-totp-secret",
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    # Then exactly one line is `totp_secret: <base32>`
    secrets = [m.group(1) for line in result.output.splitlines() if (m := TOTP_LINE.match(line))]
    assert len(secrets) == 1, result.output
    # and the password with the secret's current code gets a token
    response = ask_token(fresh_app, "meldkamer.oost1", PASSWORD, secrets[0])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["token_type"] == "Bearer"


def test_init_is_repeatable(fresh_app):
    assert run(fresh_app, init).exit_code == 0
    result = run(fresh_app, init)
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


@pytest.fixture
def provisioned(fresh_app: Flask) -> Flask:
    assert run(fresh_app, init).exit_code == 0
    assert run(fresh_app, org_add, "Wijkteam Centrum", "--kind", "social_team").exit_code == 0
    return fresh_app


def test_secret_is_printed_only_when_asked(provisioned):
    result = run(
        provisioned,
        user_add,
        "stil",
        "--org",
        "Wijkteam Centrum",
        "--role",
        "registrant",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "totp_secret" not in result.output


def test_user_add_without_password_prints_a_working_enrolment_link(provisioned):
    # Given a user added without a password
    result = run(provisioned, user_add, "nieuw", "--org", "Wijkteam Centrum", "--role", "registrant")
    assert result.exit_code == 0, result.output
    links = [line for line in result.output.splitlines() if "/enrol/" in line]
    assert len(links) == 1, result.output
    path = urlsplit(links[0].strip()).path
    # When the user opens the link, sets a password and confirms a code
    browser = provisioned.test_client()
    page = browser.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', html).group(1)
    done = browser.post(
        path,
        data={
            "password": PASSWORD,
            "password_again": PASSWORD,
            "code": pyotp.TOTP(secret).now(),
            "csrf_token": csrf_from(html),
        },
    )
    assert "Uw account is actief" in done.get_data(as_text=True)
    # Then the link is spent and the account works (with the next code: this one is used)
    assert browser.get(path).status_code == 404
    response = provisioned.test_client().post(
        "/api/v1/auth/token",
        json={"username": "nieuw", "password": PASSWORD, "otp": pyotp.TOTP(secret).at(time.time() + 30)},
    )
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    ("password", "message"),
    [("kort", "minstens 12 tekens"), ("password1234", "te voorspelbaar")],
)
def test_weak_password_from_stdin_refused_and_nothing_written(provisioned, password, message):
    # When a user is added with a weak password
    args = ["zwak", "--org", "Wijkteam Centrum", "--role", "registrant", "--password-stdin"]
    result = run(provisioned, user_add, *args, stdin=password + "\n")
    # Then the command fails with the reason, and no half-made account is left behind
    assert result.exit_code != 0
    assert message in result.output
    retry = run(provisioned, user_add, *args, stdin=PASSWORD + "\n")
    assert retry.exit_code == 0, retry.output


def test_duplicate_organisation_refused(provisioned):
    result = run(provisioned, org_add, "Wijkteam Centrum", "--kind", "social_team")
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_duplicate_user_refused_also_in_other_case(provisioned):
    args = ["--org", "Wijkteam Centrum", "--role", "registrant", "--password-stdin"]
    assert run(provisioned, user_add, "jansen", *args, stdin=PASSWORD + "\n").exit_code == 0
    for name in ("jansen", "Jansen"):
        result = run(provisioned, user_add, name, *args, stdin=PASSWORD + "\n")
        assert result.exit_code != 0
        assert "already exists" in result.output


def test_unknown_organisation_or_kind_refused(provisioned):
    result = run(provisioned, user_add, "iemand", "--org", "Bestaat Niet", "--role", "responder")
    assert result.exit_code != 0
    assert "no such organisation" in result.output
    assert run(provisioned, org_add, "Iets", "--kind", "bakkerij").exit_code != 0
    args = ["iemand", "--org", "Wijkteam Centrum", "--role", "baas"]
    assert run(provisioned, user_add, *args).exit_code != 0


def test_console_script_provisioning_path(app_config, empty_database_url, tmp_path):
    # Given the installed `samenop` script and configuration in the environment only
    script = Path(sys.executable).with_name("samenop")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SAMENOP_")},
        "SAMENOP_DATABASE_URL": empty_database_url,
        "SAMENOP_INSTANCE_DIR": str(tmp_path / "instance"),
        "SAMENOP_INDEX_DIR": str(tmp_path / "index"),
        "SAMENOP_SECRET_KEY": app_config["SECRET_KEY"],
    }

    def samenop(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *args], input=stdin, env=env, capture_output=True, text=True, timeout=60
        )

    # When the contract's three commands run
    assert samenop("init").returncode == 0
    assert samenop("org", "add", "Meldkamer Noord", "--kind", "police").returncode == 0
    added = samenop(
        "user",
        "add",
        "noord1",
        "--org",
        "Meldkamer Noord",
        "--role",
        "responder",
        "--password-stdin",
        "--print-totp-secret",
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    secret = next(m.group(1) for line in added.stdout.splitlines() if (m := TOTP_LINE.match(line)))
    # Then POST /api/v1/auth/token with the printed secret's current code gives 201
    app = create_app({**app_config, "DATABASE_URL": empty_database_url, "PASSWORD_HASH_PARAMS": FAST_HASH})
    try:
        assert ask_token(app, "noord1", PASSWORD, secret).status_code == 201
    finally:
        close_app(app)
