"""The computed figures as the monitoring tables the users know: Dutch titles and labels."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from registry.core import vocabulary as nl
from registry.core.timeutil import nl_date

TIME_OF_DAY_LABELS = {
    "day_weekday": "Overdag, maandag t/m vrijdag (09.00–17.00)",
    "day_weekend": "Overdag, zaterdag en zondag",
    "evening": "Avond (17.00–22.00)",
    "night": "Nacht (22.00–09.00)",
}
_MONTHS_SHORT = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


@dataclass
class Table:
    key: str
    title: str
    column: str
    rows: list[tuple[str, int]]
    summable: bool = True  # rows that overlap (lookups: all / with match / ...) have no total

    @property
    def total(self) -> int:
        return sum(count for _label, count in self.rows)


def _with_unregistered(labels: dict[str, str], counts: dict[str, int]) -> list[tuple[str, int]]:
    rows = [(label, counts.get(code, 0)) for code, label in labels.items()]
    rows.append((nl.UNREGISTERED, counts.get("unregistered", 0)))
    return rows


def _month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{_MONTHS_SHORT[int(month) - 1]} {year}"


def tables(figures: dict[str, Any]) -> list[Table]:
    combos = [
        (
            " + ".join(nl.Responder.label_of(code) for code in row["responders"])
            + " · "
            + nl.ReportMode.label_of(row["mode"]),
            row["count"],
        )
        for row in figures["responders_mode"]
    ]
    lookups = figures["lookups"]
    agreements = figures["agreements"]
    return [
        Table("maand", "Binnengekomen meldingen per maand", "Maand",
              [(_month_label(key), count) for key, count in figures["reports_by_month"].items()]),
        Table("tijdstip", "Tijdstip van melding", "Tijdstip",
              [(label, figures["time_of_day"][code]) for code, label in TIME_OF_DAY_LABELS.items()]),
        Table("inzet", "Type inzet (wie en hoe)", "Inzet", combos),
        Table("geweld", "Aard van het geweld", "Aard van het geweld",
              _with_unregistered(nl.ViolenceType.labels(), figures["violence_type"])),
        Table("huishouden", "Type huishouden", "Type huishouden",
              _with_unregistered(nl.HouseholdType.labels(), figures["household_type"])),
        Table("hulpverlening", "Betrokken hulpverlening", "Betrokken hulpverlening",
              _with_unregistered(nl.CareInvolvement.labels(), figures["care_involvement"])),
        Table("ggz", "GGZ crisisdienst", "GGZ crisisdienst",
              _with_unregistered(nl.MentalHealthService.labels(), figures["mental_health_service"])),
        Table("raadplegingen", "Raadplegingen", "Raadplegingen", [
            ("Raadplegingen", lookups["total"]),
            ("Met een gevonden handelingskader", lookups["with_match"]),
            ("Gevonden, geen inzet geregistreerd", lookups["without_report"]),
        ], summable=False),
        Table("afspraken", "Afspraken bij een inzet", "Uitkomst",
              [(outcome.label, agreements[outcome]) for outcome in nl.AgreementOutcome]),
    ]  # fmt: skip


def period_label(figures: dict[str, Any]) -> str:
    return f"{nl_date(figures['from'])} t/m {nl_date(figures['to'])}"


def to_csv(table: Table) -> str:
    """Opens in a Dutch spreadsheet: semicolons, a BOM for UTF-8, Dutch headers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([table.column, "Aantal"])
    for label, count in table.rows:
        writer.writerow([label, count])
    return "\ufeff" + buffer.getvalue()
