"""Fixtures: the app on a real database (SQLite or a throwaway PostgreSQL), clients, factories."""

from __future__ import annotations

import contextlib
import itertools
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from lookup import search
from registry.app import create_app
from registry.auth import accounts, two_factor
from registry.core.db import db as database
from registry.core.models import Organisation, User
from registry.ops import outbox, schema

# fixtures shared by several folders: a real SMTP server on loopback (`mailbox`)
pytest_plugins = ["tests.smtp"]

PASSWORD = "correct paard batterij nietje"  # synthetic test password, passes the policy
FAST_HASH = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="run the suite on SQLite or on a throwaway PostgreSQL cluster",
    )


def pytest_configure(config: pytest.Config) -> None:
    # pygal (the statistics charts) appends a sys.meta_path finder without find_spec; from
    # then on every import of an absent module (psycopg's optional C speedups, zoneinfo's
    # tzdata fallback for an unknown zone) warns, which filterwarnings=error turns into a failure
    config.addinivalue_line(
        "filterwarnings", r"ignore:PluginImportFixer\.find_spec\(\) not found:ImportWarning"
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {config.getoption('--db')}"


# --- databases --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def pg_cluster(db_kind: str) -> Iterator[Any]:
    if db_kind != "postgresql":
        yield None
        return
    from tests.pg import Cluster

    cluster = Cluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def template_database(db_kind: str, pg_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database that every test copies: the schema only through Alembic."""
    if db_kind == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        schema.upgrade(f"sqlite:///{path}")
        return str(path)
    admin = create_engine(pg_cluster.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE samenop_template"))
    admin.dispose()
    schema.upgrade(pg_cluster.url("samenop_template"))
    return "samenop_template"


_counter = itertools.count()


@contextlib.contextmanager
def _pg_database(cluster: Any, name: str, template: str | None = None) -> Iterator[str]:
    """CREATE DATABASE (from a template, or empty) in the throwaway cluster; dropped afterwards."""
    admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
    source = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{source}'))
    try:
        yield cluster.url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_work_database(db_kind: str, pg_cluster: Any, template_database: str) -> Iterator[str | None]:
    """One migrated PostgreSQL database for the whole run, emptied after every test
    (TRUNCATE takes milliseconds; a CREATE DATABASE per test took most of the run)."""
    if db_kind != "postgresql":
        yield None
        return
    with _pg_database(pg_cluster, "samenop_work", template_database) as url:
        yield url


_KEEP = {"alembic_version"}


def _empty_pg(url: str) -> None:
    """Back to the state `upgrade head` leaves: no rows but the audit chain's genesis."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            # whatever a test left open (a live server's pool, a thread) must not hold a lock
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            tables = [
                name
                for (name,) in conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
                if name not in _KEEP
            ]
            conn.execute(text("SET lock_timeout = '20s'"))
            conn.execute(text(f"TRUNCATE TABLE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            conn.execute(
                text(
                    "INSERT INTO audit_head (id, last_entry_id, last_hash, count) VALUES (1, 0, :genesis, 0)"
                ),
                {"genesis": "0" * 64},
            )
    finally:
        engine.dispose()


@pytest.fixture
def database_url(
    db_kind: str, pg_work_database: str | None, template_database: str, tmp_path: Path
) -> Iterator[str]:
    """An empty, migrated database for each test: a copy of the SQLite template, or the
    shared PostgreSQL database, emptied again afterwards."""
    if db_kind == "sqlite":
        target = tmp_path / "samenop.db"
        shutil.copy(template_database, target)
        yield f"sqlite:///{target}"
        return
    assert pg_work_database is not None
    try:
        yield pg_work_database
    finally:
        _empty_pg(pg_work_database)


@pytest.fixture
def empty_database_url(db_kind: str, pg_cluster: Any, tmp_path: Path) -> Iterator[str]:
    """A database without a single table: for `samenop init` and the migrations test."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with _pg_database(pg_cluster, f"e{next(_counter)}_{uuid.uuid4().hex[:8]}") as url:
        yield url


# --- the app ----------------------------------------------------------------------------------


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "INDEX_DIR": str(tmp_path / "index"),
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "SESSION_COOKIE_SECURE": False,
        "PASSWORD_HASH_PARAMS": FAST_HASH,
        "BASE_URL": "http://localhost",
        "TESTING": True,
        # the hourly budgets are tested where they are the subject (tests/lookup/test_harvesting.py)
        "LOOKUP_HOURLY_LIMIT": 100_000,
        "NAME_LOOKUP_HOURLY_LIMIT": 100_000,
    }


def close_app(application: Flask) -> None:
    """What a test's app leaves open: its index follower (a batch that is running ends first, so
    no connection is checked out while the pool goes), its index's segment files, its pool."""
    search.forget(application.config["INDEX_DIR"])
    # a connection an outbox thread still holds would be dropped unclosed with the pool
    # (psycopg's ResourceWarning, an error here)
    outbox_threads_done()
    application.extensions["samenop.engine"].dispose()


def outbox_threads_done() -> None:
    """Wait for the threads the outbox delivers from after a commit (registry/ops/outbox.py)."""
    for thread in threading.enumerate():
        if thread.name == outbox.THREAD_NAME:
            thread.join(timeout=30)


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(app_config)
    yield application
    close_app(application)


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """The app's session inside an application context (commit to make rows visible to requests)."""
    with app.app_context():
        yield database.session


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- factories ---------------------------------------------------------------------------------


@pytest.fixture
def make_org(app: Flask) -> Callable[..., Organisation]:
    names = itertools.count(1)

    def make(
        name: str | None = None, kind: str = "social_team", region: str | None = "Noord"
    ) -> Organisation:
        with app.app_context():
            org = accounts.create_organisation(
                database.session, name or f"Organisatie {next(names)}", kind, region
            )
            database.commit()
            return org

    return make


@pytest.fixture
def make_user(app: Flask, make_org: Callable[..., Organisation]) -> Callable[..., User]:
    """An enrolled user with PASSWORD and a TOTP secret (both on the returned object: the secret
    as `totp_secret`, decrypted from the database by totp_secret_of, the column holds only its
    ciphertext). Without
    `org`, the user gets an organisation of their own: a control room (police) for a responder,
    who may only be one there (registry/core/roles.py), a social team otherwise."""
    names = itertools.count(1)

    def make(
        roles: tuple[str, ...] | list[str] = ("registrant",),
        org: Organisation | None = None,
        username: str | None = None,
        password: str = PASSWORD,
    ) -> User:
        with app.app_context():
            # read again, not merged: merging would write the test's stale copy (of the
            # organisation and its region) over what the app changed since
            organisation = database.session.get(Organisation, org.id) if org is not None else None
            if organisation is None:
                organisation = accounts.create_organisation(
                    database.session,
                    f"Organisatie van gebruiker {next(names)}-{uuid.uuid4().hex[:6]}",
                    "police" if "responder" in roles else "social_team",
                )
            user = accounts.create_user(
                database.session,
                username or f"gebruiker{uuid.uuid4().hex[:8]}",
                organisation,
                list(roles),
            )
            accounts.set_password(database.session, user, password)
            accounts.provision_totp(user)
            user.enrolled_at = user.password_changed_at
            database.commit()
            user.password = password  # type: ignore[attr-defined]
            user.totp_secret = totp_secret_of(app, user)  # type: ignore[attr-defined]
            return user

    return make


def totp_secret_of(app: Flask, user: Any) -> str:
    """The user's plain TOTP secret, decrypted from the database the way the app does it."""
    with app.app_context():
        stored = database.session.get(User, user.id)
        assert stored is not None
        return two_factor.secret_of(stored)


def fresh_code(app: Flask, user: Any) -> str:
    """A code the server has not accepted yet (the current step, or the next one)."""
    with app.app_context():
        stored = database.session.get(User, user.id)
        assert stored is not None
        last = stored.totp_last_step
        secret = two_factor.secret_of(stored)
    now = time.time()
    current = int(now // two_factor.STEP_SECONDS)
    for step in (current, current + 1):
        if last is None or step > last:
            return two_factor.current_code(secret, now=step * two_factor.STEP_SECONDS)
    raise AssertionError("both usable TOTP steps are spent; wait for the next one")


@pytest.fixture
def code_for(app: Flask) -> Callable[[User], str]:
    return lambda user: fresh_code(app, user)


@pytest.fixture
def auth_headers(app: Flask) -> Callable[[User], dict[str, str]]:
    """Bearer headers for a user, without spending a TOTP step (tests of login do that)."""

    def headers(user: User) -> dict[str, str]:
        with app.app_context():
            stored = database.session.get(User, user.id)  # not merged: see make_user
            assert stored is not None
            raw, _token = accounts.issue_api_token(database.session, stored)
            database.commit()
        return {"Authorization": f"Bearer {raw}"}

    return headers


@pytest.fixture
def web_login(app: Flask) -> Callable[[FlaskClient, User], Any]:
    """Log a test client in through the two pages, as a person would."""

    def login(client: FlaskClient, user: User) -> Any:
        page = client.get("/login")
        token = csrf_from(page.get_data(as_text=True))
        client.post(
            "/login",
            data={"username": user.username, "password": user.password, "csrf_token": token},
        )  # type: ignore[attr-defined]
        page = client.get("/login/code")
        token = csrf_from(page.get_data(as_text=True))
        return client.post("/login/code", data={"code": fresh_code(app, user), "csrf_token": token})

    return login


def csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)
