"""A mail as a work item: the one place that turns a mail into a case's variables and files.

The mailbox producers (`Prepare Work Item From Mail`) and the control room (an uploaded ``.eml``) both call
:func:`mail_case`, so a mail taken from the mailbox and the same mail uploaded as a file become the same case:
the same variables (``message_id``, ``absender``, ``betreff``, ``eingang``, ``uebersprungene_anhaenge``,
``quelle``) and the same files (its attachments, with the same safe, unique names).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.utils import DotDict

from rathaus.mail._base import MailComponent, parse_size
from rathaus.mail.errors import UnreadableMailError
from rathaus.mail.message import MailMessage, build_mail_message, looks_like_mail

#: where a case came from (work item variable ``quelle``)
SOURCES = ("postfach", "upload", "ordner")


@dataclass(frozen=True)
class MailCase:
    """What a work item of one mail holds: its key (the Message-ID), its variables and its files."""

    key: str
    variables: dict[str, Any]
    #: ``(file name, content)`` of each attachment taken, names unique within the case
    files: tuple[tuple[str, bytes], ...] = field(repr=False)

    @property
    def file_names(self) -> list[str]:
        return [name for name, _ in self.files]


def mail_key(mail: MailMessage) -> str:
    """The work item key of a mail: its Message-ID, else ``uid:<uidvalidity>:<uid>``."""
    return mail.message_id or f"uid:{mail.uidvalidity}:{mail.uid}"


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    number = 2
    while f"{stem}-{number}{'.' + extension if extension else ''}" in taken:
        number += 1
    return f"{stem}-{number}{'.' + extension if extension else ''}"


def mail_case(mail: MailMessage, source: str = "postfach", max_size: int | str | None = None,
              received: datetime | None = None, max_text: int | None = None) -> MailCase:
    """The work item of ``mail``: variables and attachments; attachments over ``max_size`` are left out by name.

    ``eingang`` is the mail's date (``TT.MM.JJJJ``), or ``received`` (default: now) when it has none. With
    ``max_text`` (for processes that read the mail itself, such as the general mailbox) the variables also hold
    ``text`` (the body, at most ``max_text`` characters), ``empfangen`` (ISO time) and ``absender_name``; other
    processes keep no more of the mail than they need.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    limit = parse_size(max_size)
    files: list[tuple[str, bytes]] = []
    skipped: list[str] = []
    taken: set[str] = set()
    for attachment in mail.attachments:
        if limit is not None and attachment.size > limit:
            skipped.append(attachment.filename)
            continue
        name = _unique(attachment.filename, taken)
        taken.add(name)
        files.append((name, mail.attachment_data(attachment.index)))
    day = mail.date or received or datetime.now()
    variables = {
        "message_id": mail_key(mail),
        "absender": mail.sender_address,
        "betreff": mail.subject,
        "eingang": day.strftime("%d.%m.%Y"),
        "uebersprungene_anhaenge": skipped,
        "quelle": source,
    }
    if max_text is not None:
        moment = mail.date or received or datetime.now().astimezone()
        variables.update({"text": (mail.body or "")[:max_text], "empfangen": moment.isoformat(),
                          "absender_name": parseaddr(mail.sender or "")[0]})
    return MailCase(mail_key(mail), variables, tuple(files))


def read_mail_file(name: str, raw: bytes) -> MailMessage:
    """An uploaded ``.eml`` as the mail it is; :class:`UnreadableMailError` (German, naming it) when it is none."""
    if not looks_like_mail(raw):
        raise UnreadableMailError(
            f"Die Datei '{name}' ist keine Mail: keine Kopfzeilen wie From, Date oder Subject gefunden. Bitte die "
            "Mail aus dem Mailprogramm als .eml-Datei speichern und diese hochladen.")
    return build_mail_message(raw, uid=name, folder="upload")


def attachments_of_types(case: MailCase, types: Iterable[str]) -> list[str]:
    """Names of the case's files whose extension (``.pdf``) is one of ``types``."""
    wanted = {t.lower() for t in types}
    return [name for name in case.file_names if Path(name).suffix.lower() in wanted]


class IntakeKeywords(MailComponent):
    """Turning a mail into a work item."""

    @keyword
    def prepare_work_item_from_mail(self, message: MailMessage, directory: str | os.PathLike[str],
                                    max_size: int | str | None = None, source: str = "postfach",
                                    max_text: int | None = None) -> DotDict:
        """Saves the attachments of ``message`` into ``directory`` and returns what its work item holds.

        The result has ``key`` (the Message-ID, else ``uid:<uidvalidity>:<uid>``), ``variables``
        (``message_id``, ``absender``, ``betreff``, ``eingang`` as ``TT.MM.JJJJ``, ``uebersprungene_anhaenge``,
        ``quelle``, and ``work_item_key``: the key, so that ``Create Output Work Item`` creates the item once) and
        ``files`` (the saved attachments' paths). Attachments larger than ``max_size`` are
        left out; their names are in ``uebersprungene_anhaenge`` (and `Get Skipped Attachments`), so that the
        consumer hands the case to a clerk with `Check Skipped Attachments`. The control room reads an uploaded
        ``.eml`` with the same rules, so an uploaded mail and a mail from the mailbox make the same case.

        | =Arguments= | =Description= |
        | ``message`` | A message from `List Messages`. |
        | ``directory`` | Folder for the attachments, created if missing; must be empty or new. |
        | ``max_size`` | Largest attachment taken, e.g. ``25 MB``; larger ones are left out by name. |
        | ``source`` | Work item variable ``quelle``: ``postfach`` (default), ``upload`` or ``ordner``. |
        | ``max_text`` | Also keep the body as ``text`` (at most this many characters) and the sender. |

        ``max_text`` is for processes that read the mail itself (``intake: mail_text`` in ``process.yaml``), so that
        an uploaded ``.eml`` keeps the same: ``text``, ``empfangen`` (the time, ISO 8601) and ``absender_name``.

        Example:
        | ${item}=    Prepare Work Item From Mail    ${mail}    ${folder}    max_size=25 MB
        | Create Output Work Item    variables=${item.variables}    files=${item.files}    save=True

        See also `Save Attachments`, `Get Skipped Attachments`.
        """
        limit = None if max_text is None else int(max_text)
        case = mail_case(message, source=source, max_size=max_size, max_text=limit)
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, content in case.files:
            path = target / name
            with open(path, "xb") as handle:
                handle.write(content)
            paths.append(str(path))
        self.state.skipped = list(case.variables["uebersprungene_anhaenge"])
        for name in self.state.skipped:
            logger.warn(f"Anhang '{name}' der Mail {case.key} ist größer als {max_size} und wird übersprungen.")
        logger.info(f"{len(paths)} Anhang/Anhänge nach {target} gespeichert.")
        from rathaus.workitems.model import KEY_VARIABLE

        return DotDict(key=case.key, variables={**case.variables, KEY_VARIABLE: case.key}, files=paths)
