"""Start the sandbox Fachverfahren for tests: in a thread on a free port, with its own database file."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rathaus_sandbox.server import ThreadedSandbox, start_sandbox

USER = "robot.giessen"
PASSWORD = "Geheim-Passwort-4711"
MANDANT = "Universitätsstadt Gießen"


def sandbox_settings(tmp: Path, **overrides: Any) -> dict[str, Any]:
    """Settings with the test user, the Gießen Mandant and a database file in ``tmp``."""
    settings: dict[str, Any] = {
        "database": tmp / "fachverfahren.sqlite",
        "users": {USER: PASSWORD},
        "mandant": MANDANT,
        "secret_key": "test-secret",
    }
    settings.update(overrides)
    return settings


@contextmanager
def running_sandbox(tmp: Path, settings: Mapping[str, Any] | None = None) -> Iterator[ThreadedSandbox]:
    """The sandbox served in a background thread on a free port; stopped on exit."""
    with start_sandbox({**sandbox_settings(tmp), **(settings or {})}) as server:
        yield server


def valid_case(**overrides: Any) -> dict[str, Any]:
    """A complete, valid new-case form (field name -> value as a browser would submit it)."""
    case = {
        "antragsteller_name": "Müller",
        "antragsteller_vorname": "Jürgen",
        "antragsteller_geburtsdatum": "01.02.1985",
        "antragsteller_strasse": "Frankfurter Straße 12",
        "antragsteller_plz": "35390",
        "antragsteller_ort": "Gießen",
        "antragsteller_familienstand": "getrennt",
        "antragsteller_staatsangehoerigkeit": "deutsch",
        "antragsteller_email": "juergen.mueller@example.org",
        "antragsteller_telefon": "0641 12345",
        "antragsteller_lebt_mit_kind": "ja",
        "kind_name": "Müller",
        "kind_vorname": "Lea",
        "kind_geburtsdatum": "03.04.2018",
        "kind_geburtsort": "Gießen",
        "kind_geschlecht": "w",
        "elternteil_name": "Schäfer",
        "elternteil_vorname": "Tim",
        "elternteil_anschrift_bekannt": "ja",
        "elternteil_anschrift": "Bahnhofstraße 3, 35578 Wetzlar",
        "elternteil_vaterschaft_festgestellt": "ja",
        "einkommen_waisenrente": "0,00",
        "einkommen_unterhalt": "50,00",
        "leistung_beginn": "01.2026",
        "antragsteller_iban": "DE89 3704 0044 0532 0130 00",
        "kontoinhaber": "Jürgen Müller",
        "eingangskanal": "email",
        "anlagen_geburtsurkunde": "ja",
        "erklaerung_ort": "Gießen",
        "erklaerung_datum": "02.01.2026",
        "bemerkungen": "Antrag per E-Mail eingegangen.",
    }
    case.update(overrides)
    return case
