"""The rejection mail to the sender of an invalid invoice, from the process's text template."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from erechnung.checks import InvoiceCheck
from erechnung.routing import LeitwegDirectory

TEMPLATE = "rueckweisung.txt"


@dataclass(frozen=True)
class Mail:
    """Subject and plain-text body of a mail."""

    subject: str
    body: str


def rejection_data(
    check: InvoiceCheck,
    received: str,
    mailbox: str,
    city: Mapping[str, Any],
    department: Mapping[str, Any],
    directory: LeitwegDirectory,
    by_mail: bool = True,
) -> dict[str, Any]:
    """The template data: invoice, reasons, the city's offices when the Leitweg-ID is unknown, a contact.

    ``by_mail`` is ``False`` for an invoice uploaded in the control room without its mail (``per_mail``): the
    text then does not say it came by e-mail to the mailbox.
    """
    invoice = check.invoice
    office = check.office
    contact = (
        {"email": office.kontakt_email, "telefon": office.kontakt_telefon}
        if office is not None
        else {"email": department.get("email") or mailbox, "telefon": department.get("telefon", "")}
    )
    return {
        "rechnung": {
            "nummer": invoice.number if invoice else None,
            "datum": invoice.issue_date.strftime("%d.%m.%Y") if invoice and invoice.issue_date else None,
            "datei": check.file_name,
        },
        "eingang": received,
        "per_mail": bool(by_mail),
        "postfach": mailbox,
        "gruende": check.reasons(),
        "leitweg_unbekannt": check.unknown_leitweg_id,
        "empfaengerliste": [office.as_dict() for office in directory],
        "kontakt": contact,
        "stadt": dict(city),
        "amt": dict(department),
    }


def render_rejection(template_dir: str | Path, data: Mapping[str, Any]) -> Mail:
    """Render the template; its first line ``Betreff: …`` is the subject."""
    environment = Environment(  # noqa: S701 - plain text mail, no HTML to escape
        loader=FileSystemLoader(str(template_dir)), undefined=StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True,
    )
    text = environment.get_template(TEMPLATE).render(**data)
    first, _, rest = text.lstrip("\n").partition("\n")
    subject = first.removeprefix("Betreff:").strip()
    body = "\n".join(line.rstrip() for line in rest.strip("\n").splitlines()) + "\n"
    return Mail(subject=subject, body=body)
