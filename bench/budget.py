"""The cost of the hourly lookup budget (lookup/operations.py check_budget): the statement every
lookup runs before it searches, against a user's recent lookups in the database.

    python -m bench.budget [--dir DIR] [--rows 4000] [--repeat 2000]

Builds a SQLite database through the migrations (or reuses DIR/samenop.db), gives one synthetic
user `--rows` lookups within the last hour, and times the statement as the app runs it (its
compiled SQL on the app's own engine) with the production cap (SAMENOP_LOOKUP_HOURLY_LIMIT's
default, 120) and without one. Prints microseconds per check (p50, p90, p99).

Why a separate bench: bench.lookup sends every lookup as one user at hundreds per second, which
production refuses after 120 an hour; with its budget set out of reach, each of its lookups
counts up to the limit's rows, as no production lookup does. This one measures the check at the
bound production holds it to.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from pathlib import Path

import click
from sqlalchemy import create_engine, insert

from lookup.operations import _SPENT, BUDGET_WINDOW
from registry.core.models import Lookup, Organisation, User
from registry.core.timeutil import utcnow
from registry.ops import schema

PRODUCTION_CAP = 120


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[89], cuts[98]


@click.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--rows", default=4000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="the user's lookups within the last hour")  # fmt: skip
@click.option("--repeat", default=2000, show_default=True, type=click.IntRange(10, 1_000_000))
def main(directory: Path | None, rows: int, repeat: int) -> None:
    work = directory or Path(tempfile.mkdtemp(prefix="samenop-budget-"))
    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{work / 'samenop.db'}"
    schema.upgrade(url)
    engine = create_engine(url)
    now = utcnow()
    with engine.begin() as connection:
        org_id = connection.scalar(
            insert(Organisation)
            .values(name=f"Budget {uuid.uuid4().hex[:8]}", kind="police")
            .returning(Organisation.id)
        )
        user_id = connection.scalar(
            insert(User)
            .values(username=f"budget-{uuid.uuid4().hex[:8]}", display_name="Budget", organisation_id=org_id)
            .returning(User.id)
        )
        spread = BUDGET_WINDOW / (rows + 1)
        connection.execute(
            insert(Lookup),
            [
                {
                    "id": uuid.uuid4(),
                    "user_id": user_id,
                    "organisation_id": org_id,
                    "role": "responder",
                    "incident_ref": f"B-{n}",
                    "query_kind": "address",
                    "performed_at": now - spread * (n + 1),
                    "match_count": 0,
                    "name_only": n % 5 == 0,
                }  # fmt: skip
                for n in range(rows)
            ],
        )
    click.echo(f"{rows} lookups of one user in the last hour; {repeat} checks each")
    with engine.connect() as connection:
        for label, cap in ((f"cap {PRODUCTION_CAP} (production)", PRODUCTION_CAP), ("no cap", rows + 1)):
            parameters = {"user_id": user_id, "since": now - BUDGET_WINDOW, "cap": cap}
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                connection.execute(_SPENT, parameters).one()
                samples.append((time.perf_counter() - started) * 1e6)
            p50, p90, p99 = _percentiles(samples)
            counted = connection.execute(_SPENT, parameters).one()[0]
            click.echo(
                f"{label:>24}: counted {counted:>6}  p50 {p50:7.1f} us  p90 {p90:7.1f} us  p99 {p99:7.1f} us"
            )
    engine.dispose()
    if directory is None:
        click.echo(f"(database left in {work})")


if __name__ == "__main__":
    main()
