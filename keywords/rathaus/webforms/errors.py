"""Errors of the WebForms library.

All of them are :class:`~rathaus.errors.ApplicationError`: the case's data is not at fault, something around
it is (server down, too slow, the robot's field mapping no longer matches the form). Each has its own
``code`` so that work item handling and reports can tell them apart:

| class | code | typical cause | what to do |
|---|---|---|---|
| SiteUnreachableError | SITE_UNREACHABLE | server down, wrong URL | start the server / fix the URL, run again |
| PageTimeoutError | TIMEOUT | page too slow, element never appears | check the system, raise the timeout |
| ServerError | SERVER_ERROR | HTTP 5xx (maintenance) | run again later |
| UnknownFieldError | UNKNOWN_FIELD | robot/config bug: field renamed or misspelt | fix the robot's field mapping |
| FieldValueError | FIELD_VALUE | value the form cannot take (no such option, too long) | fix the mapping or the value |
| BrowserStartError | BROWSER_START | no usable Chromium | install Chromium or set RATHAUS_BROWSER |

UnknownFieldError is deliberately not a BusinessError: the applicant's data is fine, the robot is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rathaus.errors import ApplicationError


class WebFormsError(ApplicationError):
    """Base class of the WebForms errors."""

    code = "WEBFORMS_ERROR"


class SiteUnreachableError(WebFormsError):
    """The web application does not answer at all (connection refused, unknown host)."""

    code = "SITE_UNREACHABLE"

    def __init__(self, url: str) -> None:
        super().__init__(
            f"Der Server der Webanwendung unter '{url}' ist nicht erreichbar. "
            "Bitte prüfen Sie, ob er läuft, und starten Sie den Lauf erneut."
        )
        self.url = url


class PageTimeoutError(WebFormsError):
    """A page, element or text did not appear in time."""

    code = "TIMEOUT"


class ServerError(WebFormsError):
    """The web application answered with HTTP 5xx."""

    code = "SERVER_ERROR"

    def __init__(self, url: str, status: int) -> None:
        super().__init__(
            f"Das Fachverfahren unter '{url}' meldet einen Serverfehler (HTTP {status}), zum Beispiel wegen "
            "Wartungsarbeiten. Bitte starten Sie den Lauf später erneut."
        )
        self.url = url
        self.status = status


class UnknownFieldError(WebFormsError):
    """The robot names fields that the form does not have: a bug in the robot's field mapping."""

    code = "UNKNOWN_FIELD"

    def __init__(self, unknown: Sequence[str], available: Sequence[str]) -> None:
        names = ", ".join(f"'{u}'" for u in unknown)
        shown = ", ".join(available[:60]) + (" …" if len(available) > 60 else "")
        super().__init__(
            f"Das Formular hat kein Feld {names}. Vorhanden sind: {shown}. "
            "Bitte die Feldzuordnung des Roboters anpassen (Name, id oder Beschriftung)."
        )
        self.unknown = list(unknown)
        self.available = list(available)


class FieldValueError(WebFormsError):
    """Fields exist but cannot take the given values (no such option, field locked, value too long)."""

    code = "FIELD_VALUE"

    def __init__(self, problems: Mapping[str, str]) -> None:
        details = "; ".join(f"'{k}': {v}" for k, v in problems.items())
        super().__init__(f"Formularfelder konnten nicht ausgefüllt werden: {details}")
        self.problems = dict(problems)


class BrowserStartError(WebFormsError):
    """No browser could be started."""

    code = "BROWSER_START"
