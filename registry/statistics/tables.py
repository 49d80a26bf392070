"""The computed figures as the monitoring tables the users know: the pilot's titles and labels."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from registry.core import dutch
from registry.core import vocabulary as nl

# the pilot's table "Tijdstip van melding": two subtotals, each above its two parts
TIME_OF_DAY_ROWS = (
    ("day", "Overdag 09.00–17.00 uur"),
    ("day_weekday", "Maandag t/m vrijdag"),
    ("day_weekend", "Zaterdag en zondag"),
    ("evening_night", "Avond en nacht 17.00–09.00 uur"),
    ("evening", "Avond 17.00–22.00 uur"),
    ("night", "Nacht 22.00–09.00 uur"),
)
TIME_OF_DAY_SUBTOTAL_LABELS = frozenset({"Overdag 09.00–17.00 uur", "Avond en nacht 17.00–09.00 uur"})

Cell = int | str


@dataclass
class Table:
    key: str
    title: str
    column: str
    rows: list[tuple[str, Cell]]
    summable: bool = True  # rows that overlap (lookups: all / with match / ...) have no total
    # rows that add up others (the pilot's subtotals): shown bold, left out of the total and chart
    subtotals: frozenset[str] = frozenset()
    value_column: str = "Aantal"
    # more columns after the value, a text per row (per gemeente: inwoners, per 1.000)
    extra_columns: tuple[str, ...] = ()
    extra: list[tuple[str, ...]] = field(default_factory=list)
    chart: bool = True

    @property
    def total(self) -> int:
        return sum(
            count for label, count in self.rows if isinstance(count, int) and label not in self.subtotals
        )

    @property
    def chart_rows(self) -> list[tuple[str, int]]:
        return [
            (label, count)
            for label, count in self.rows
            if isinstance(count, int) and label not in self.subtotals
        ]

    def lines(self) -> list[tuple[str, Cell, tuple[str, ...]]]:
        """Each row with its extra cells, as the page and the CSV show it."""
        extra = self.extra or [()] * len(self.rows)
        return [(label, value, more) for (label, value), more in zip(self.rows, extra, strict=True)]


def nl_number(value: float | None, decimals: int = 2) -> str:
    """A number as Dutch people write it: 0,55; 301.727; – for none."""
    if value is None:
        return "–"
    return dutch.number(value, decimals)


def _with_unregistered(labels: dict[str, str], counts: dict[str, int]) -> list[tuple[str, Cell]]:
    rows: list[tuple[str, Cell]] = [(label, counts.get(code, 0)) for code, label in labels.items()]
    rows.append((nl.UNREGISTERED, counts.get("unregistered", 0)))
    return rows


def _month_label(key: str) -> str:
    year, month = key.split("-")
    return dutch.month_year(date(int(year), int(month), 1))


def _per_gemeente(figures: dict[str, Any]) -> Table:
    rows: list[tuple[str, Cell]] = []
    extra: list[tuple[str, ...]] = []
    for name, row in figures["per_gemeente"].items():
        rows.append((name, row["meldingen"]))
        extra.append((nl_number(row["population"], 0), nl_number(row["per_1000"])))
    rows.append((nl.UNREGISTERED, figures["gemeente_unregistered"]))
    extra.append(("", ""))
    return Table(
        "gemeente", "Meldingen per gemeente", "Gemeente", rows, value_column="Meldingen",
        extra_columns=("Inwoners", "Per 1.000 inwoners per jaar"), extra=extra,
    )  # fmt: skip


def _projection(figures: dict[str, Any]) -> Table:
    projection = figures["projection"]
    rows: list[tuple[str, Cell]] = [
        ("Meldingen in de periode", projection["meldingen"]),
        ("Per jaar bij dit tempo", projection["per_year"]),
        ("Inwoners van de gemeenten", nl_number(projection["population"], 0)),
        ("Per 1.000 inwoners per jaar", nl_number(projection["per_1000"])),
    ]
    if projection["region_population"] is not None:
        rows += [
            ("Inwoners van de regio", nl_number(projection["region_population"], 0)),
            ("Verwachte meldingen per jaar in de regio", projection["region_per_year"]),
        ]
    return Table(
        "projectie", "Projectie", "Projectie", rows, summable=False, value_column="Waarde", chart=False
    )


def _capacity(figures: dict[str, Any]) -> Table:
    projection = figures["projection"]
    where = "in de regio" if projection["capacity_basis"] == "region" else "bij dit tempo"
    rows: list[tuple[str, Cell]] = []
    extra: list[tuple[str, ...]] = []
    for row in projection["capacity"]:
        rows.append((nl.TypeInzet.label_of(row["type_inzet"]), row["meldingen_per_year"]))
        extra.append((nl_number(row["hours_per_melding"], 1), nl_number(row["hours_per_year"], 1)))
    total = nl_number(projection["capacity_hours"], 1)
    return Table(
        "capaciteit", f"Capaciteit: uren per jaar {where} (totaal {total} uur)", "Type inzet", rows,
        value_column="Meldingen per jaar", extra_columns=("Uren per melding", "Uren per jaar"), extra=extra,
        chart=False,
    )  # fmt: skip


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}%"


def _sheet(figures: dict[str, Any]) -> list[Table]:
    """What the pilot could only describe: reachability, needed versus given, hours."""
    labels = dict(TIME_OF_DAY_ROWS)
    reach = figures["reachability"]
    keys = (*(code for code, _label in TIME_OF_DAY_ROWS if code in reach), "total")
    reachability = Table(
        "bereikbaarheid", "Bereikbaarheid: binnen 15 minuten aan de lijn", "Tijdstip",
        [(labels.get(key, "Totaal"), reach[key]["within_15"]) for key in keys], summable=False,
        value_column="Binnen 15 minuten", extra_columns=("Bereikt na (minuten) ingevuld", "Aandeel"),
        extra=[(str(reach[key]["reported"]), _percent(reach[key]["share_within_15"])) for key in keys],
        chart=False,
    )  # fmt: skip
    needed = figures["needed_vs_given"]
    needed_table = Table(
        "nodige-inzet", "Nodige inzet: telefonisch advies dat meer nodig had", "Tijdstip",
        [(labels[key], needed[key]["needed_more"]) for key in needed], summable=False,
        value_column="Meer nodig", extra_columns=("Telefonisch advies, nodige inzet ingevuld", "Aandeel"),
        extra=[(str(row["phone_advice"]), _percent(row["share_needed_more"])) for row in needed.values()],
        chart=False,
    )  # fmt: skip
    hours = figures["hours"]
    hours_rows: list[tuple[str, Cell]] = [
        (label, nl_number(hours[code], 1)) for code, label in nl.TypeInzet.labels().items()
    ]
    hours_rows.append(("Totaal", nl_number(hours["total"], 1)))
    spent = Table(
        "bestede-tijd", "Bestede tijd (uur) per type inzet", "Type inzet", hours_rows, summable=False,
        value_column="Uren", chart=False,
    )  # fmt: skip
    return [reachability, needed_table, spent]


def _duration(minutes: int | None) -> str:
    """80 -> "1 uur 20 minuten"; none -> "–"."""
    if minutes is None:
        return "–"
    hours, rest = divmod(int(minutes), 60)
    parts = [f"{hours} uur"] if hours else []
    if rest or not hours:
        parts.append(dutch.minutes(rest))
    return " ".join(parts)


def _spoed(figures: dict[str, Any]) -> Table:
    """Spoedmeldingen (an arrest, a restraining order, marked urgent) and how fast their owners
    read and picked them up: the first acknowledgement of each, against its deadline."""
    spoed = figures["spoed"]
    rows: list[tuple[str, Cell]] = [
        ("Spoedmeldingen", spoed["meldingen"]),
        ("Gelezen en opgepakt vóór de termijn", _percent(spoed["acknowledged_within_deadline_share"])),
        (
            "Tijd tot gelezen en opgepakt (mediaan, na de melding)",
            _duration(spoed["median_minutes_to_acknowledgement"]),
        ),
    ]
    return Table("spoed", "Spoedmeldingen", "Spoed", rows, summable=False, value_column="Waarde", chart=False)


def tables(figures: dict[str, Any]) -> list[Table]:
    combos: list[tuple[str, Cell]] = [
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
        Table("maand", "Binnengekomen meldingen", "Maand",
              [(_month_label(key), count) for key, count in figures["meldingen_by_month"].items()]),
        Table("tijdstip", "Tijdstip van melding", "Tijdstip",
              [(label, figures["time_of_day"][code]) for code, label in TIME_OF_DAY_ROWS],
              subtotals=TIME_OF_DAY_SUBTOTAL_LABELS),
        Table("inzet", "Type inzet", "Type inzet",
              [(label, figures["type_inzet"][code]) for code, label in nl.TypeInzet.labels().items()]),
        Table("wie-en-hoe", "Wie en hoe (alle organisaties van de melding samen)", "Inzet", combos),
        Table("geweld", "Aard van het geweld", "Aard van het geweld",
              _with_unregistered(nl.ViolenceType.labels(), figures["violence_type"])),
        Table("huishouden", "Type huishouden/gezin", "Type huishouden/gezin",
              _with_unregistered(nl.HouseholdType.labels(), figures["household_type"])),
        Table("hulpverlening", "Betrokken hulpverlening", "Betrokken hulpverlening",
              _with_unregistered(nl.CareInvolvement.labels(), figures["care_involvement"])),
        Table("ggz", "GGZ crisisdienst betrokken tijdens incident", "GGZ crisisdienst",
              _with_unregistered(nl.MentalHealthService.labels(), figures["mental_health_service"])),
        *_sheet(figures),
        _per_gemeente(figures),
        _projection(figures),
        _capacity(figures),
        Table("inzetten", "Geregistreerde inzetten per maand", "Maand",
              [(_month_label(key), count) for key, count in figures["reports_by_month"].items()]),
        _spoed(figures),
        Table("raadplegingen", "Raadplegingen", "Raadplegingen", [
            ("Raadplegingen", lookups["total"]),
            ("Met een gevonden handelingskader", lookups["with_match"]),
            ("Gevonden, geen inzet geregistreerd", lookups["without_report"]),
        ], summable=False),
        Table("afspraken", "Afspraken bij een inzet", "Uitkomst",
              [(outcome.label, agreements[outcome]) for outcome in nl.AgreementOutcome]),
    ]  # fmt: skip


def period_label(figures: dict[str, Any]) -> str:
    return f"{dutch.long_date(figures['from'])} t/m {dutch.long_date(figures['to'])}"


def to_csv(table: Table) -> str:
    """Opens in a Dutch spreadsheet: semicolons, a BOM for UTF-8, Dutch headers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([table.column, table.value_column, *table.extra_columns])
    for label, value, more in table.lines():
        writer.writerow([label, value, *more])
    return "\ufeff" + buffer.getvalue()
