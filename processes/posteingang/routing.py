"""The routing rules of a city's mail room and the scoring that picks a department.

A city keeps its rules in ``resources/cities/<city>/posteingang.yaml`` (schema:
``resources/cities/schemas/posteingang.yaml``): departments (``fachbereiche``) with the mailbox folder
they work from and weighted rules. Each rule looks at one thing:

- ``absender``: sender addresses (``steuer@finanzamt.example``) or domains (``finanzamt.hessen.de``, which
  also covers its subdomains); shell wildcards are allowed (``fa-*.hessen.de``);
- ``betreff`` / ``text``: keywords in the subject / in the mail body and attachment text (OCR included),
  found regardless of case and accents (``Lärm`` finds ``LARM`` and ``lärmbelästigung``);
- ``betreff_muster`` / ``text_muster``: a regular expression (case-insensitive);
- ``anhang``: attachment kinds: ``e-rechnung`` (XRechnung/ZUGFeRD) or file name patterns (``*.gml``).

A keyword rule scores its weight for each distinct keyword found, the other rules once. The department
with the highest total gets the item if it reaches ``mindestpunktzahl`` and no other department has the
same total; otherwise the item is unclear and goes to a clerk.

Pure functions over plain data, unit-tested without robot, mailbox or OCR.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rathaus.errors import ApplicationError
from rathaus.files import fold_text

#: Rule keys and how the docket names what they matched.
CRITERIA = {
    "absender": "Absender",
    "betreff": "Betreff enthält",
    "betreff_muster": "Betreff passt zu",
    "text": "Text enthält",
    "text_muster": "Text passt zu",
    "anhang": "Anhang",
}
KEYWORD_CRITERIA = ("betreff", "text")
E_INVOICE = "e-rechnung"


class RoutingRulesError(ApplicationError):
    """The city's routing rules are missing or wrong: the RPA team has to fix the master data."""

    code = "REGELN_FEHLERHAFT"


@dataclass(frozen=True)
class Rule:
    """One weighted rule of one department."""

    department: str
    number: int
    criterion: str
    values: tuple[str, ...]
    weight: int
    pattern: re.Pattern[str] | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        return CRITERIA[self.criterion]


@dataclass(frozen=True)
class Department:
    key: str
    name: str
    folder: str
    note: str = ""
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Hit:
    """A rule that matched: what it found and the points it gave."""

    department: str
    rule: int
    criterion: str
    found: tuple[str, ...]
    points: int

    def describe(self) -> str:
        """German one-liner for the docket, e.g. ``Betreff enthält „Lärmbeschwerde“ (+5)``."""
        shown = ", ".join(f"„{value}“" for value in self.found)
        return f"{CRITERIA[self.criterion]} {shown} (+{self.points})"

    def as_dict(self) -> dict[str, Any]:
        """For work item variables: what a regular expression matched stays out (it is the mail's own text)."""
        found = [] if self.criterion.endswith("_muster") else list(self.found)
        return {"fachbereich": self.department, "regel": self.rule, "art": self.criterion, "gefunden": found,
                "punkte": self.points}


@dataclass(frozen=True)
class Evidence:
    """What routing looks at, taken from one incoming item."""

    sender: str = ""
    subject: str = ""
    text: str = ""
    #: attachment file names
    attachments: tuple[str, ...] = ()
    #: attachment kinds found by content, e.g. ``e-rechnung``
    kinds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Routing:
    """The outcome: a department, or ``None`` when a clerk has to decide (``reason`` says why)."""

    department: Department | None
    score: int
    hits: tuple[Hit, ...]
    #: points per department with at least one hit, best first
    scores: tuple[tuple[str, int], ...]
    #: ``zugeordnet``, ``kein_treffer``, ``zu_wenig_punkte`` or ``gleichstand``
    reason: str

    @property
    def clear(self) -> bool:
        return self.department is not None

    @property
    def tied(self) -> tuple[str, ...]:
        """Departments sharing the best score (for ``gleichstand``)."""
        if not self.scores:
            return ()
        best = self.scores[0][1]
        return tuple(key for key, points in self.scores if points == best)

    def hits_for(self, department: str) -> tuple[Hit, ...]:
        return tuple(hit for hit in self.hits if hit.department == department)


@dataclass(frozen=True)
class RoutingRules:
    departments: Mapping[str, Department]
    minimum: int = 1

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, source: str = "posteingang.yaml") -> RoutingRules:
        """Compile a city's ``posteingang`` master data; wrong entries fail naming the entry."""
        if not isinstance(data, Mapping) or not isinstance(data.get("fachbereiche"), Mapping):
            raise RoutingRulesError(
                f"Die Zuordnungsregeln ({source}) fehlen oder haben keinen Abschnitt 'fachbereiche'. Bitte die "
                "Stammdaten der Stadt ergänzen (resources/cities/<stadt>/posteingang.yaml)."
            )
        departments: dict[str, Department] = {}
        for key, entry in data["fachbereiche"].items():
            departments[str(key)] = _department(str(key), entry, source)
        if not departments:
            raise RoutingRulesError(f"{source}: 'fachbereiche' ist leer. Bitte mindestens einen Fachbereich anlegen.")
        minimum = data.get("mindestpunktzahl", 1)
        if not isinstance(minimum, int) or minimum < 1:
            raise RoutingRulesError(f"{source}: 'mindestpunktzahl' muss eine ganze Zahl ab 1 sein, ist {minimum!r}.")
        return cls(departments, minimum)

    @property
    def rules(self) -> Iterable[Rule]:
        for department in self.departments.values():
            yield from department.rules

    def route(self, evidence: Evidence) -> Routing:
        """Score every department's rules against ``evidence`` and pick the department."""
        hits = [hit for rule in self.rules if (hit := match(rule, evidence)) is not None]
        totals: dict[str, int] = {}
        for hit in hits:
            totals[hit.department] = totals.get(hit.department, 0) + hit.points
        order = list(self.departments)
        scores = tuple(sorted(totals.items(), key=lambda item: (-item[1], order.index(item[0]))))
        if not scores:
            return Routing(None, 0, (), (), "kein_treffer")
        best_key, best = scores[0]
        if len(scores) > 1 and scores[1][1] == best:
            return Routing(None, best, tuple(hits), scores, "gleichstand")
        if best < self.minimum:
            return Routing(None, best, tuple(hits), scores, "zu_wenig_punkte")
        return Routing(self.departments[best_key], best, tuple(hits), scores, "zugeordnet")


def _department(key: str, entry: Any, source: str) -> Department:
    where = f"{source}, Fachbereich '{key}'"
    if not isinstance(entry, Mapping):
        raise RoutingRulesError(f"{where}: Eintrag muss eine Zuordnung mit name, ordner und regeln sein.")
    for required in ("name", "ordner", "regeln"):
        if not entry.get(required):
            raise RoutingRulesError(f"{where}: Pflichtschlüssel '{required}' fehlt.")
    folder = str(entry["ordner"]).strip().strip("/")
    if folder.upper() == "INBOX" or not folder:
        raise RoutingRulesError(f"{where}: 'ordner' darf nicht der Posteingang (INBOX) sein.")
    rules = tuple(_rule(key, number, raw, where) for number, raw in enumerate(entry["regeln"], start=1))
    return Department(key, str(entry["name"]), folder, str(entry.get("hinweis") or ""), rules)


def _rule(department: str, number: int, raw: Any, where: str) -> Rule:
    where = f"{where}, Regel {number}"
    if not isinstance(raw, Mapping):
        raise RoutingRulesError(f"{where}: Regel muss eine Zuordnung sein, z. B. {{betreff: [Lärm], gewicht: 5}}.")
    criteria = [key for key in raw if key in CRITERIA]
    unknown = [key for key in raw if key not in CRITERIA and key != "gewicht"]
    if unknown or len(criteria) != 1:
        raise RoutingRulesError(
            f"{where}: genau eines von {', '.join(CRITERIA)} und 'gewicht' angeben (gefunden: {', '.join(raw)})."
        )
    weight = raw.get("gewicht")
    if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
        raise RoutingRulesError(f"{where}: 'gewicht' muss eine ganze Zahl ab 1 sein, ist {weight!r}.")
    criterion = criteria[0]
    value = raw[criterion]
    if criterion.endswith("_muster"):
        if not isinstance(value, str) or not value:
            raise RoutingRulesError(f"{where}: '{criterion}' muss ein regulärer Ausdruck (Text) sein.")
        try:
            pattern = re.compile(value, re.IGNORECASE)
        except re.error as error:
            raise RoutingRulesError(f"{where}: '{value}' ist kein gültiger regulärer Ausdruck ({error}).") from None
        return Rule(department, number, criterion, (value,), weight, pattern)
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, Sequence) or not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise RoutingRulesError(f"{where}: '{criterion}' muss eine Liste von Texten sein.")
    return Rule(department, number, criterion, tuple(v.strip() for v in values), weight)


def _sender_matches(entry: str, address: str) -> bool:
    entry = entry.lower().strip()
    address = address.lower().strip()
    if "@" in entry:
        return fnmatch.fnmatchcase(address, entry)
    domain = address.rpartition("@")[2]
    return fnmatch.fnmatchcase(domain, entry) or fnmatch.fnmatchcase(domain, f"*.{entry}")


def _keywords_in(values: Iterable[str], text: str) -> tuple[str, ...]:
    folded = fold_text(text)
    return tuple(value for value in values if fold_text(value) in folded)


def match(rule: Rule, evidence: Evidence) -> Hit | None:
    """The hit of ``rule`` on ``evidence``, or ``None``."""
    found: tuple[str, ...] = ()
    if rule.criterion == "absender":
        found = tuple(v for v in rule.values if evidence.sender and _sender_matches(v, evidence.sender))[:1]
    elif rule.criterion in KEYWORD_CRITERIA:
        found = _keywords_in(rule.values, evidence.subject if rule.criterion == "betreff" else evidence.text)
    elif rule.criterion.endswith("_muster"):
        assert rule.pattern is not None
        hit = rule.pattern.search(evidence.subject if rule.criterion == "betreff_muster" else evidence.text)
        found = (" ".join(hit.group(0).split()),) if hit else ()
    elif rule.criterion == "anhang":
        names = [name.lower() for name in evidence.attachments]
        for value in rule.values:
            if value.lower() == E_INVOICE:
                if E_INVOICE in evidence.kinds:
                    found = (*found, "E-Rechnung")
            elif any(fnmatch.fnmatchcase(name, value.lower()) for name in names):
                found = (*found, value)
        found = found[:1]
    if not found:
        return None
    points = rule.weight * (len(found) if rule.criterion in KEYWORD_CRITERIA else 1)
    return Hit(rule.department, rule.number, rule.criterion, found, points)
