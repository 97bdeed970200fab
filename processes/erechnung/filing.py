"""When a mail leaves the inbox, and into which folder: only after every invoice in it is recorded.

A mail can hold several invoices, each its own work item. A case uploaded in the control room has no mail in the
mailbox and moves none. The mail moves once all of them are finished
(done, or failed for a business reason and so with a clerk); while one is pending or failed for a
technical reason it stays in the inbox, so that the next run can read it again and nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class ItemState:
    """What filing needs to know of one work item of a mail."""

    status: str  # pending, in_progress, done, failed
    exception_type: str | None = None  # BUSINESS or APPLICATION for failed items
    ergebnis: str | None = None  # erfasst, vorhanden, abgelehnt for done items

    @classmethod
    def of(cls, item: Any) -> ItemState:
        """From a queue item (``QueueItem``) or a mapping with the same keys."""
        if isinstance(item, Mapping):
            return cls(_status(item.get("status")), item.get("exception_type"), item.get("ergebnis"))
        status = getattr(item.status, "value", item.status)
        payload = item.payload if isinstance(item.payload, Mapping) else {}
        return cls(_status(status), item.exception_type, payload.get("ergebnis"))


#: the queue's item states (``rathaus.workitems.states.ItemState``) in the words filing uses
_STATUS = {"new": "pending", "failed_business": "failed", "failed_application": "failed"}


def _status(value: Any) -> str:
    return _STATUS.get(str(value), str(value))


def target_folder(states: Iterable[ItemState], folders: Mapping[str, str]) -> str | None:
    """The folder a mail belongs in, or ``None`` while it must stay in the inbox.

    ``folders`` is the ``postfach`` section of the configuration (``erledigt``, ``abgelehnt``,
    ``pruefung``). A clerk's case wins over a rejection, a rejection over entered invoices.
    """
    states = list(states)
    if not states:
        return None
    for state in states:
        if state.status not in ("done", "failed"):
            return None
        if state.status == "failed" and state.exception_type != "BUSINESS":
            return None
    if any(state.status == "failed" for state in states):
        return folders["pruefung"]
    if any(state.ergebnis == "abgelehnt" for state in states):
        return folders["abgelehnt"]
    return folders["erledigt"]


def items_of_mail(items: Iterable[Any], message_id: str) -> list[Any]:
    """The work items whose variable ``message_id`` is the mail's, from the mailbox only.

    An uploaded case (``quelle: upload``) is no mail of the mailbox, even when it is a copy of one: it never
    moves a mailbox mail, which its own work items file.
    """
    result = []
    for item in items:
        payload = item.get("payload") if isinstance(item, Mapping) else getattr(item, "payload", None)
        if (isinstance(payload, Mapping) and payload.get("message_id") == message_id
                and payload.get("quelle", "postfach") != "upload"):
            result.append(item)
    return result


def run_summary_lines(items: Iterable[Any], since: datetime) -> list[str]:
    """German lines for the run summary: entries per Buchungskreis with their total, rejections sent.

    ``items`` are queue items; only those released at or after ``since`` count.
    """
    from rathaus.einvoice.model import german_amount

    entered: dict[tuple[str, str], list[Decimal]] = {}
    rejected = 0
    for item in items:
        released = getattr(item, "released_at", None)
        if released is not None and released.tzinfo is None and since.tzinfo is not None:
            released = released.replace(tzinfo=timezone.utc)  # a naive time of the queue is UTC
        payload = getattr(item, "payload", None)
        if released is None or released < since or not isinstance(payload, Mapping):
            continue
        if payload.get("ergebnis") == "abgelehnt" and payload.get("rueckweisung"):
            rejected += 1
        if payload.get("ergebnis") != "erfasst":
            continue
        key = (str(payload.get("buchungskreis") or "?"), str(payload.get("waehrung") or "EUR"))
        try:
            amount = Decimal(str(payload.get("zahlbetrag")))
        except (InvalidOperation, ValueError):
            amount = Decimal(0)
        entered.setdefault(key, []).append(amount)
    lines = []
    if entered:
        parts = [
            f"{bk}: {len(amounts)} Rechnung{'en' if len(amounts) != 1 else ''}, {german_amount(sum(amounts))} {cur}"
            for (bk, cur), amounts in sorted(entered.items())
        ]
        lines.append("Erfasst je Buchungskreis: " + "; ".join(parts))
    if rejected:
        lines.append(f"Rückweisungen an die Absender versandt: {rejected}")
    return lines
