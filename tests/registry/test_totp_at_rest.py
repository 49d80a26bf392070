"""TOTP secrets at rest: the database and its backups hold them encrypted under a key kept
outside the database (SAMENOP_TOTP_KEY or instance/totp_key); the app decrypts them through
registry.auth.two_factor.secret_of, and the wrong key fails loudly instead of refusing every
code as if it were wrong."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pyotp
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import text

from registry.app import create_app
from registry.auth import two_factor
from registry.core.config import ConfigError
from registry.core.db import db as database
from registry.ops import backup
from registry.ops.cli import init
from tests.conftest import close_app, fresh_code

TOKEN_URL = "/api/v1/auth/token"


def stored_column(app: Flask, user_id: int) -> str:
    """What the users row holds, read with plain SQL as anyone with the database would."""
    with app.app_context():
        value = database.session.execute(
            text("SELECT totp_secret_encrypted FROM users WHERE id = :id"), {"id": user_id}
        ).scalar_one()
    assert isinstance(value, str)
    return value


def ask_token(app: Flask, user: Any, code: str) -> Any:
    return app.test_client().post(
        TOKEN_URL, json={"username": user.username, "password": user.password, "otp": code}
    )


def test_the_database_holds_no_usable_secret(app, make_user):
    # Given an enrolled user
    user = make_user(["responder"])
    secret = user.totp_secret
    # When the users row is read straight from the database
    stored = stored_column(app, user.id)
    # Then it is not the base32 secret, does not contain it, and gives no valid code
    assert stored != secret
    assert secret not in stored
    assert secret.lower() not in stored.lower()
    right = two_factor.current_code(secret)
    try:
        from_stored = pyotp.TOTP(stored).now()
    except Exception:  # noqa: BLE001 - not even base32: no code at all
        from_stored = None
    assert from_stored != right
    # and it is ciphertext under the app's key, which is kept outside the database
    assert Fernet(app.config["TOTP_KEY"].encode()).decrypt(stored.encode()).decode() == secret


def test_login_still_works(app, make_user):
    # Given an enrolled user, When they ask for a token with their password and current code
    user = make_user(["responder"])
    response = ask_token(app, user, fresh_code(app, user))
    # Then they get one
    assert response.status_code == 201, response.get_json()


def test_key_is_generated_once_into_the_instance_for_the_owner_only(app_config, monkeypatch):
    monkeypatch.delenv("SAMENOP_TOTP_KEY", raising=False)
    # Given no SAMENOP_TOTP_KEY, When the app starts twice on one instance directory
    first, second = create_app(app_config), create_app(app_config)
    try:
        # Then both use the one key in instance/totp_key, mode 0600
        key_file = Path(app_config["INSTANCE_DIR"]) / "totp_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert first.config["TOTP_KEY"] == second.config["TOTP_KEY"] == key_file.read_text().strip()
    finally:
        close_app(first)
        close_app(second)


def test_given_key_is_used_and_not_written(app_config, monkeypatch):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("SAMENOP_TOTP_KEY", key)
    application = create_app(app_config)
    try:
        assert application.config["TOTP_KEY"] == key
        assert not (Path(app_config["INSTANCE_DIR"]) / "totp_key").exists()
    finally:
        close_app(application)


@pytest.mark.parametrize("key", ["", "te-kort", "x" * 44, "MDEyMzQ1Njc4OWFiY2RlZg=="])
def test_malformed_key_refuses_to_start(app_config, monkeypatch, key):
    monkeypatch.setenv("SAMENOP_TOTP_KEY", key)
    with pytest.raises(ConfigError, match="SAMENOP_TOTP_KEY"):
        create_app(app_config)


def test_wrong_key_fails_loudly(app, app_config, make_user, caplog):
    # Given an enrolled user, and the app started again with another key on the same database
    user = make_user(["responder"])
    code = fresh_code(app, user)
    other = create_app(app_config | {"TOTP_KEY": Fernet.generate_key().decode()})
    try:
        # When the user logs in with the right password and code
        # Then it fails as a server error with the reason in the log, not the quiet "wrong
        # code" (401) that would count towards locking the user out
        response = ask_token(other, user, code)
        assert response.status_code == 500
        assert "SAMENOP_TOTP_KEY" in caplog.text
        assert "does not decrypt" in caplog.text
        # and `samenop init` with that key refuses and says why
        result = other.test_cli_runner().invoke(init)
        assert result.exit_code == 1
        assert "SAMENOP_TOTP_KEY" in result.output
    finally:
        close_app(other)
    # while with the right key the same code still logs in
    assert ask_token(app, user, code).status_code == 201


def test_backup_holds_no_plain_secret(app, make_user, tmp_path, db_kind):
    if db_kind != "sqlite":
        pytest.skip("samenop backup is SQLite's; PostgreSQL is backed up with pg_dump")
    # Given enrolled users
    users = [make_user(["responder"]), make_user()]
    # When the database is backed up
    target = tmp_path / "backup.db"
    backup.backup(app.config["DATABASE_URL"], target)
    # Then the backup file holds none of their secrets, in any case
    content = target.read_bytes()
    for user in users:
        assert user.totp_secret.encode() not in content
        assert user.totp_secret.lower().encode() not in content
    assert b"totp_key" not in content
