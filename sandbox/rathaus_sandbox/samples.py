"""What the processes' sample generators (``processes/*/samples/generate.py``) share: putting the sample
mails into a Maildir and writing Robocorp-style ``devdata/`` work items from them."""

from __future__ import annotations

import email
import json
import mailbox
import shutil
from collections.abc import Callable, Iterable, Mapping
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any

#: Builds the work items of one mail from the base payload, the attachment names and the case folder.
ItemsOf = Callable[[dict[str, Any], list[str], Path], list[dict[str, Any]]]


def deliver(paths: Iterable[Path], maildir: Path, folder: str | None = None) -> None:
    """Deliver mails into a Maildir (Maildir++ layout: subfolders as '.Name')."""
    maildir.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(maildir, create=True)
    target = box if not folder or folder == "INBOX" else box.add_folder(folder)
    for path in paths:
        target.add(mailbox.MaildirMessage(path.read_bytes()))


def write_env(devdata: Path, env: Mapping[str, str], indent: int = 2) -> None:
    """``devdata/env.json``: the environment of a local run."""
    devdata.mkdir(parents=True, exist_ok=True)
    (devdata / "env.json").write_text(json.dumps(env, indent=indent) + "\n", encoding="utf-8")


def write_work_items(folder: Path, items: list[dict[str, Any]], indent: int = 2) -> None:
    """``work-items.json`` of one input case (the format of rpaframework's file adapter)."""
    (folder / "work-items.json").write_text(json.dumps(items, indent=indent, ensure_ascii=False) + "\n",
                                            encoding="utf-8")


def one_item_per_mail(payload: dict[str, Any], names: list[str], _folder: Path) -> list[dict[str, Any]]:
    """The work item a mail producer makes of a mail: its variables and all attachments."""
    return [{"payload": payload, "files": {name: name for name in names}}]


def write_mail_devdata(paths: Iterable[Path], devdata: Path, env: Mapping[str, str],
                       items_of: ItemsOf = one_item_per_mail, *, clean: bool = False) -> None:
    """Robocorp-style ``devdata/``: ``env.json`` and per sample mail ``work-items-in/<mail stem>/`` with the
    mail's attachments and the input work items ``items_of`` makes of them (default: one per mail).

    The base payload holds ``message_id``, ``eingang`` (``DD.MM.YYYY``) and ``absender`` (address), as the
    mail producers write them. ``clean`` removes earlier ``work-items-in`` cases first.
    """
    inputs = devdata / "work-items-in"
    if clean:
        shutil.rmtree(inputs, ignore_errors=True)
    inputs.mkdir(parents=True, exist_ok=True)
    write_env(devdata, env)
    for path in paths:
        mail: EmailMessage = email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[assignment]
        folder = inputs / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        names = []
        for part in mail.iter_attachments():
            name = part.get_filename()
            (folder / name).write_bytes(part.get_content())
            names.append(name)
        payload = {
            "message_id": "".join(str(mail["Message-ID"]).split()),
            "eingang": parsedate_to_datetime(mail["Date"]).strftime("%d.%m.%Y"),
            "absender": parseaddr(mail["From"])[1],
        }
        write_work_items(folder, items_of(payload, names, folder))
