"""On SQLite a served worker copies the write-ahead log into the database in a thread of its own
(registry.core.db.Checkpointer, started by `samenop serve` in every worker), not in the commit of
whichever request takes the log past 1 000 pages."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.core import db as registry_db
from registry.core.db import FALLBACK_AUTOCHECKPOINT, start_checkpointer


def autocheckpoint(app: Flask) -> int:
    """SQLite's own checkpoint threshold on a connection a request would get now."""
    connection = app.extensions["samenop.engine"].raw_connection()
    try:
        return int(connection.driver_connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    finally:
        connection.close()


def modified(path: Path) -> int:
    return path.stat().st_mtime_ns


def test_a_served_worker_checkpoints_in_its_own_thread_not_in_a_request(
    app: Flask, client: FlaskClient, db_kind: str, make_user: Any, auth_headers: Any, monkeypatch: Any
) -> None:
    if db_kind != "sqlite":
        pytest.skip("PostgreSQL checkpoints by itself")
    monkeypatch.setattr(registry_db, "CHECKPOINT_INTERVAL", 0.1)
    headers = auth_headers(make_user(roles=("responder",)))
    database_file = Path(app.extensions["samenop.engine"].url.database)
    assert autocheckpoint(app) == 1000  # SQLite's default: a commit past 1 000 pages checkpoints

    # Given a worker that checkpoints in the background, and a database file at rest
    checkpointer = start_checkpointer(app.extensions["samenop.engine"])
    assert checkpointer is not None
    try:
        # Then the requests' connections leave the checkpoint to it (SQLite's own only far out)
        assert autocheckpoint(app) == FALLBACK_AUTOCHECKPOINT
        time.sleep(0.5)
        at_rest = modified(database_file)

        # When a request writes (a lookup stores itself and its audit entry)
        response = client.post(
            "/api/v1/lookups",
            json={"incident_ref": "CP-1", "address": {"postcode": "9999 ZZ", "house_number": 1}},
            headers=headers,
        )
        assert response.status_code == 200, response.get_json()

        # Then, with no further request, the write reaches the database file itself
        deadline = time.monotonic() + 5
        while modified(database_file) == at_rest and time.monotonic() < deadline:
            time.sleep(0.05)
        assert modified(database_file) != at_rest
    finally:
        checkpointer.stop()

    # And once it stops, new connections checkpoint by themselves again
    app.extensions["samenop.engine"].dispose()
    assert autocheckpoint(app) == 1000
