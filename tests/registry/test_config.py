"""Configuration refuses to start when misconfigured, and generates a secret key when none is given."""

from __future__ import annotations

import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from lookup.cli import compact as index_compact
from lookup.cli import rebuild as index_rebuild
from lookup.search import index_for
from registry.app import create_app
from registry.auth import accounts
from registry.core import config
from registry.core.config import ConfigError
from registry.core.db import db as database
from registry.ops.cli import init
from tests.conftest import FAST_HASH, close_app
from tests.registry.plan_data import plan_body


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets: no SAMENOP_* variable of the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("SAMENOP_"):
            monkeypatch.delenv(name)


@pytest.fixture
def base(tmp_path: Path) -> dict[str, Any]:
    return {
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "INDEX_DIR": str(tmp_path / "index"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'samenop.db'}",
        "SECRET_KEY": "een-geheime-sleutel-van-voldoende-lengte",
    }


def test_valid_configuration_loads(base):
    settings = config.load(base)
    assert settings["DATABASE_URL"] == base["DATABASE_URL"]
    assert settings["TIMEZONE"] == "Europe/Amsterdam"
    assert Path(settings["INDEX_DIR"]).is_dir()


@pytest.mark.parametrize("secret", ["", "kort", "x" * 31])
def test_short_secret_refused(base, secret):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        config.load({**base, "SECRET_KEY": secret})


def test_short_secret_from_environment_refused(base, monkeypatch):
    monkeypatch.setenv("SAMENOP_SECRET_KEY", "te-kort")
    del base["SECRET_KEY"]
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(base)


@pytest.mark.parametrize(
    "url",
    [
        "geen url",
        "mysql://samenop@localhost/samenop",
        "postgresql+psycopg2://samenop@localhost/samenop",
        "postgres://samenop@localhost/samenop",
    ],
)
def test_bad_database_url_refused(base, url):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        config.load({**base, "DATABASE_URL": url})


def test_bad_database_url_from_environment_refused(base, monkeypatch):
    monkeypatch.setenv("SAMENOP_DATABASE_URL", "oracle://scott@tiger/db")
    del base["DATABASE_URL"]
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app(base)


def test_sqlite_file_in_a_missing_directory_refused(base, tmp_path):
    # Given a SQLite URL whose directory does not exist (a typo), or is a file
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for url in (f"sqlite:///{tmp_path / 'typo' / 'samenop.db'}", f"sqlite:///{blocker / 'samenop.db'}"):
        # Then the app refuses to start, instead of failing at the first request
        with pytest.raises(ConfigError, match="DATABASE_URL"):
            config.load({**base, "DATABASE_URL": url})


def test_default_database_directory_is_created(tmp_path):
    # Given only a secret key and an index directory elsewhere: the database defaults to instance/
    instance = tmp_path / "nieuw" / "instance"
    settings = config.load(
        {"INSTANCE_DIR": str(instance), "INDEX_DIR": str(tmp_path / "index"), "SECRET_KEY": "k" * 40}
    )
    # Then the instance directory exists, so SQLite can create its file there
    assert settings["DATABASE_URL"] == f"sqlite:///{instance / 'samenop.db'}"
    assert instance.is_dir()


def test_start_up_runs_no_queries(base):
    # Given a PostgreSQL URL where no server listens
    url = "postgresql+psycopg://samenop@/samenop?host=/nonexistent-socket-dir"
    # When the app is created, it starts (the database is touched by the first request only)
    app = create_app({**base, "DATABASE_URL": url})
    close_app(app)


def test_unwritable_index_dir_refused(base, tmp_path):
    # Given an index directory that cannot be created: its parent is a regular file
    # (tests run as root, for whom a read-only directory is writable)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="INDEX_DIR"):
        config.load({**base, "INDEX_DIR": str(blocker / "index")})


def test_index_dir_that_is_a_file_refused(base, tmp_path):
    blocker = tmp_path / "index-file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="INDEX_DIR"):
        config.load({**base, "INDEX_DIR": str(blocker)})


@pytest.mark.parametrize("zone", ["Europe/Atlantis", "", "../../etc/passwd", "CET+1"])
def test_unknown_time_zone_refused(base, zone, monkeypatch):
    monkeypatch.setenv("SAMENOP_TIMEZONE", zone)
    with pytest.raises(ConfigError, match="TIMEZONE"):
        config.load(base)


def test_bad_smtp_url_refused(base, monkeypatch):
    monkeypatch.setenv("SAMENOP_SMTP_URL", "mail.example.org:25")
    with pytest.raises(ConfigError, match="SMTP_URL"):
        config.load(base)


def test_request_size_limit_from_environment(base, monkeypatch):
    # the default, then a limit of 2 MiB set by the administrator
    assert config.load(base)["MAX_CONTENT_LENGTH"] == 1024 * 1024
    monkeypatch.setenv("SAMENOP_MAX_REQUEST_BYTES", "2097152")
    assert config.load(base)["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024


@pytest.mark.parametrize("limit", ["1 MB", "-1", "0", "1000", str(200 * 1024 * 1024)])
def test_bad_request_size_limit_refused(base, monkeypatch, limit):
    # Given a limit that is no number of bytes, or one so small a full plan does not fit, or huge
    monkeypatch.setenv("SAMENOP_MAX_REQUEST_BYTES", limit)
    # Then the app refuses to start
    with pytest.raises(ConfigError, match="SAMENOP_MAX_REQUEST_BYTES"):
        config.load(base)


def test_trusted_proxies_from_environment(base, monkeypatch):
    # off by default; the number of reverse proxies in front, when the administrator says so
    assert config.load(base)["TRUSTED_PROXIES"] == 0
    monkeypatch.setenv("SAMENOP_TRUSTED_PROXIES", "2")
    assert config.load(base)["TRUSTED_PROXIES"] == 2


@pytest.mark.parametrize("proxies", ["ja", "-1", "1.5", "11"])
def test_bad_trusted_proxies_refused(base, monkeypatch, proxies):
    monkeypatch.setenv("SAMENOP_TRUSTED_PROXIES", proxies)
    with pytest.raises(ConfigError, match="SAMENOP_TRUSTED_PROXIES"):
        config.load(base)


def test_lookup_budgets_and_flag_thresholds_from_environment(base, monkeypatch):
    # the defaults, then the administrator's
    loaded = config.load(base)
    assert (loaded["LOOKUP_HOURLY_LIMIT"], loaded["NAME_LOOKUP_HOURLY_LIMIT"]) == (120, 20)
    assert loaded["FLAG_LOOKUPS_PER_HOUR"] == 30
    monkeypatch.setenv("SAMENOP_NAME_LOOKUP_HOURLY_LIMIT", "10")
    monkeypatch.setenv("SAMENOP_LOOKUP_HOURLY_LIMIT", "0")  # no budget: a load test
    loaded = config.load(base)
    assert (loaded["LOOKUP_HOURLY_LIMIT"], loaded["NAME_LOOKUP_HOURLY_LIMIT"]) == (0, 10)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SAMENOP_LOOKUP_HOURLY_LIMIT", "veel"),
        ("SAMENOP_LOOKUP_HOURLY_LIMIT", "-1"),
        ("SAMENOP_NAME_LOOKUP_HOURLY_LIMIT", "0"),
        ("SAMENOP_FLAG_LOOKUPS_PER_HOUR", "2.5"),
        ("SAMENOP_FLAG_HISTORY_MINIMUM", "0"),
    ],
)
def test_bad_lookup_budget_or_flag_threshold_refused(base, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        config.load(base)


def test_secret_key_generated_into_instance_owner_only(base):
    # Given no secret key anywhere
    del base["SECRET_KEY"]
    instance = Path(base["INSTANCE_DIR"])
    assert not instance.exists()
    # When the configuration loads
    settings = config.load(base)
    # Then a long random key is written into instance/, readable by the owner only
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == settings["SECRET_KEY"]
    assert len(settings["SECRET_KEY"]) >= 32
    # and the next start uses the same key (sessions survive a restart)
    assert config.load(base)["SECRET_KEY"] == settings["SECRET_KEY"]


def test_secret_key_generated_once_when_workers_start_together(base):
    # Given several server processes starting at once on a fresh instance directory
    del base["SECRET_KEY"]
    workers = 12
    start = threading.Barrier(workers)

    def boot(_: int) -> str:
        start.wait(timeout=30)
        return str(config.load(base)["SECRET_KEY"])

    # When each loads the configuration
    with ThreadPoolExecutor(max_workers=workers) as pool:
        keys = set(pool.map(boot, range(workers)))
    # Then none fails and all share one key
    assert len(keys) == 1
    assert keys.pop() == (Path(base["INSTANCE_DIR"]) / "secret_key").read_text().strip()


def test_given_secret_is_not_written_to_disk(base):
    config.load(base)
    assert not (Path(base["INSTANCE_DIR"]) / "secret_key").exists()


@pytest.fixture
def umask_022() -> Any:
    """The usual umask, whatever the machine running the tests has."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_database_and_index_are_readable_by_the_owner_only(tmp_path, umask_022):
    """Given a fresh instance directory: the default SQLite file and search index inside it
    When `samenop init` creates the database, a plan is written and found (the index follows
    the change feed), and the index is rebuilt and compacted, while the app's connections are
    open (SQLite's -wal and -shm exist)
    Then every file in it is 0600 and every directory 0700: no other local user reads the
    families' addresses and names, from the database or from the index."""
    instance = tmp_path / "instance"
    app = create_app(
        {
            "INSTANCE_DIR": str(instance),
            "PASSWORD_HASH_PARAMS": FAST_HASH,
            "SESSION_COOKIE_SECURE": False,
            "TESTING": True,
        }
    )
    try:
        runner = app.test_cli_runner()
        assert runner.invoke(init).exit_code == 0
        with app.app_context():
            team = accounts.create_organisation(database.session, "Wijkteam Bestand", "social_team")
            police = accounts.create_organisation(database.session, "Meldkamer Bestand", "police")
            registrant = accounts.create_user(database.session, "bestand", team, ["registrant"])
            responder = accounts.create_user(database.session, "meldkamer", police, ["responder"])
            raw, _token = accounts.issue_api_token(database.session, registrant)
            raw_responder, _token = accounts.issue_api_token(database.session, responder)
            database.commit()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {raw}"}
        assert client.post("/api/v1/plans", json=plan_body(), headers=headers).status_code == 201
        found = client.post(
            "/api/v1/lookups",
            json={
                "incident_ref": "BESTAND-1",
                "person": {"name": "Noor Testveen", "birth_date": "1990-01-02"},
            },
            headers={"Authorization": f"Bearer {raw_responder}"},
        )
        assert found.status_code == 200, found.get_json()
        assert found.get_json()["matches"]
        with app.app_context():
            index_for(app.config["INDEX_DIR"]).follow(database.session)
        assert runner.invoke(index_rebuild).exit_code == 0
        assert runner.invoke(index_compact).exit_code == 0
        database_file = instance / "samenop.db"
        for path in (database_file, Path(f"{database_file}-wal"), Path(f"{database_file}-shm")):
            assert path.exists(), path
        index = Path(app.config["INDEX_DIR"])
        assert index.parent == instance
        assert any(path.suffix == ".trm" for path in index.iterdir())  # a segment's terms
        # Then
        modes = {
            str(path.relative_to(tmp_path)): oct(stat.S_IMODE(path.stat().st_mode))
            for path in [instance, *instance.rglob("*")]
        }
        expected = {name: oct(0o700 if (tmp_path / name).is_dir() else 0o600) for name in modes}
        assert modes == expected
    finally:
        close_app(app)
