"""Mailbox addresses and the interface every mailbox backend (IMAP, Maildir) implements."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

from rathaus.mail.errors import MailError, MailOperationError, MessageNotFoundError
from rathaus.mail.message import MailMessage, normalize_message_id

DEFAULT_PORTS = {"imap": 143, "imaps": 993, "smtp": 25, "smtps": 465}

#: Flags that may be written without the leading backslash, e.g. ``Seen`` for ``\\Seen``.
SYSTEM_FLAGS = {"seen": "\\Seen", "answered": "\\Answered", "flagged": "\\Flagged", "draft": "\\Draft"}


@dataclass(frozen=True)
class MailboxAddress:
    """A parsed mailbox or outbox URL, without any password."""

    scheme: str  # imap, imaps, maildir, smtp, smtps
    host: str = ""
    port: int = 0
    user: str = ""
    starttls: bool = False
    path: Path | None = None
    #: Folder after ``#`` (Maildir outbox), else ``None``.
    folder: str | None = None

    @property
    def display(self) -> str:
        """``user@host:port`` for servers, the path for Maildirs: safe for logs and messages."""
        if self.scheme == "maildir":
            return f"{self.path}" + (f"#{self.folder}" if self.folder else "")
        return f"{self.user}@{self.host}:{self.port}" if self.user else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        if self.scheme == "maildir":
            return f"maildir:{self.display}"
        scheme = f"{self.scheme}+starttls" if self.starttls else self.scheme
        return f"{scheme}://{self.display}"


def parse_address(url: str, *, user: str | None = None, starttls: bool | None = None) -> MailboxAddress:
    """Parse ``imap://user@host:143``, ``imap+starttls://…``, ``imaps://…``, ``smtp[s]://…``,
    ``smtp+starttls://…`` or ``maildir:/path[#Folder]`` (a plain path means Maildir too).

    A password inside the URL is ignored on purpose: pass it as a separate (secret) argument.
    """
    text = str(url).strip()
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", text)
    if not match or len(match.group(1)) == 1:  # no scheme, or a Windows drive letter
        text = f"maildir:{text}"
        match = re.match(r"^(maildir):", text)
    assert match is not None
    scheme = match.group(1).lower()
    if scheme == "maildir":
        rest = text[len("maildir:") :]
        if rest.startswith("//"):
            rest = rest[2:]
        rest, _, folder = rest.partition("#")
        if not rest:
            raise MailError(f"Maildir-Adresse '{text}' enthält keinen Pfad. Beispiel: maildir:/daten/Maildir")
        return MailboxAddress("maildir", path=Path(unquote(rest)).expanduser(), folder=folder or None)
    base, plus, modifier = scheme.partition("+")
    if base not in DEFAULT_PORTS or (plus and modifier != "starttls"):
        raise MailError(
            f"Adresse '{_without_password(text)}' wird nicht unterstützt. Erlaubt sind imap://, "
            "imap+starttls://, imaps://, smtp://, smtp+starttls://, smtps:// und maildir:/pfad."
        )
    parts = urlsplit(text)
    host = parts.hostname or ""
    if not host:
        raise MailError(f"Adresse '{_without_password(text)}' enthält keinen Servernamen.")
    try:
        port = parts.port or DEFAULT_PORTS[base]
    except ValueError:
        raise MailError(f"Adresse '{_without_password(text)}' enthält einen ungültigen Port.") from None
    account = user if user is not None else unquote(parts.username or "")
    tls = bool(plus) if starttls is None else bool(starttls)
    if base in ("imaps", "smtps"):
        tls = False
    return MailboxAddress(base, host=host, port=port, user=account, starttls=tls)


def _without_password(text: str) -> str:
    return re.sub(r"(//[^/@:]*):[^/@]*@", r"\1:***@", text)


def normalize_flag(flag: str) -> str:
    """``Seen`` -> ``\\Seen``; keywords like ``$Bearbeitet`` stay. Deleting flags are refused."""
    name = str(flag).strip()
    if name.lstrip("\\").lower() == "deleted":
        raise MailOperationError(
            "Das Kennzeichen \\Deleted wird nicht gesetzt: rathaus löscht keine Mails. "
            "Bitte die Mail mit 'Move Message' in einen Ablageordner verschieben."
        )
    if name.startswith("\\"):
        return SYSTEM_FLAGS.get(name[1:].lower(), name)
    return SYSTEM_FLAGS.get(name.lower(), name)


@dataclass(frozen=True)
class SearchCriteria:
    """What `List Messages` looks for; every given criterion must match."""

    sender: str | None = None
    subject: str | None = None
    since: date | None = None
    before: date | None = None
    unseen: bool = False
    limit: int | None = None


class Backend(ABC):
    """One open mailbox. UIDs are ints for IMAP and Maildir keys (str) for Maildir."""

    address: MailboxAddress

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def list_folders(self) -> list[str]: ...

    @abstractmethod
    def folder_exists(self, folder: str) -> bool: ...

    @abstractmethod
    def create_folder(self, folder: str) -> None: ...

    @abstractmethod
    def search(self, folder: str, criteria: SearchCriteria) -> list[int | str]: ...

    @abstractmethod
    def fetch(self, folder: str, uids: list[int | str]) -> list[MailMessage]: ...

    @abstractmethod
    def search_message_id(self, folder: str, message_id: str) -> list[int | str]: ...

    @abstractmethod
    def uid_exists(self, message: MailMessage) -> bool:
        """True if the message's UID is still valid and present in its folder."""

    @abstractmethod
    def move(self, folder: str, uid: int | str, target: str) -> None: ...

    @abstractmethod
    def change_flags(self, folder: str, uid: int | str, flags: list[str], *, add: bool) -> None: ...

    @abstractmethod
    def append(self, folder: str, raw: bytes, flags: list[str]) -> None: ...

    # -- shared logic ------------------------------------------------------------------------------

    def find_by_message_id(self, folder: str, message_id: str) -> MailMessage:
        """The first (lowest UID) message in ``folder`` whose Message-ID header equals ``message_id``."""
        wanted = normalize_message_id(message_id)
        uids = self.search_message_id(folder, wanted)
        for message in self.fetch(folder, uids):
            if message.message_id and normalize_message_id(message.message_id) == wanted:
                return message
        raise MessageNotFoundError(
            f"Im Ordner '{folder}' des Postfachs '{self.address.display}' gibt es keine Mail mit der "
            f"Message-ID {wanted}. Bitte prüfen, ob sie schon verschoben wurde oder im richtigen Ordner "
            "gesucht wird."
        )

    def resolve(self, message: MailMessage | str, folder: str | None) -> tuple[str, int | str]:
        """``(folder, current uid)`` of a message object or a Message-ID string.

        A :class:`MailMessage` is used by UID while its UIDVALIDITY holds and the UID is present;
        otherwise (a later run, the folder was rebuilt) it is looked up by its Message-ID.
        """
        if isinstance(message, MailMessage):
            where = folder or message.folder
            if where == message.folder and self.uid_exists(message):
                return where, message.uid
            if not message.message_id:
                raise MessageNotFoundError(
                    f"Die Mail '{message.subject}' ist nicht mehr im Ordner '{where}' und hat keine "
                    "Message-ID, über die sie sich wiederfinden ließe. Bitte im Postfach prüfen."
                )
            return where, self.find_by_message_id(where, message.message_id).uid
        where = folder or "INBOX"
        return where, self.find_by_message_id(where, str(message)).uid
