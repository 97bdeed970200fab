"""A Maildir as mailbox: the embedded default for demos and tests, no server needed.

Layout as Dovecot uses it (Maildir++): the INBOX is the top folder with ``cur/``, ``new/`` and ``tmp/``,
other folders are ``.Name`` folders beside them (names in modified UTF-7, ``.`` separates levels).
Flags live in the file name (``:2,FS``), custom keywords as letters ``a``–``z`` listed in the folder's
``dovecot-keywords`` file, so Dovecot can serve the same Maildir. Message keys (the part of the file name
before ``:``) are the UIDs and stay the same when a message is moved; moving is one ``rename``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import time
from datetime import date
from email.parser import BytesHeaderParser
from pathlib import Path

from imapclient import imap_utf7

from rathaus.mail.backend import Backend, MailboxAddress, SearchCriteria
from rathaus.mail.errors import MailFolderError, MailOperationError, MessageNotFoundError
from rathaus.mail.message import MailMessage, build_mail_message, normalize_message_id

_LETTERS = {"S": "\\Seen", "R": "\\Answered", "F": "\\Flagged", "T": "\\Deleted", "D": "\\Draft"}
_FLAG_TO_LETTER = {flag: letter for letter, flag in _LETTERS.items()}
_HEADERS = BytesHeaderParser()
_counter = itertools.count(1)


def new_key() -> str:
    """A unique Maildir file name (time, microseconds, process, counter, host)."""
    now = time.time()
    host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
    return f"{int(now)}.M{int(now % 1 * 1e6)}P{os.getpid()}Q{next(_counter)}.{host}"


class MaildirBackend(Backend):
    """A mailbox in a local Maildir."""

    def __init__(self, address: MailboxAddress, *, create: bool = False) -> None:
        assert address.path is not None
        self.address = address
        self.root = address.path
        if not (self.root / "cur").is_dir():
            if not create:
                raise MailFolderError(
                    f"Maildir '{self.root}' nicht gefunden (kein Unterordner cur/). Bitte den Pfad in der "
                    "Konfiguration prüfen oder das Postfach mit create=True anlegen."
                )
            self._make_folder_dirs(self.root)

    def close(self) -> None:
        """Nothing to close for files."""

    # -- folders ------------------------------------------------------------------------------------

    def _folder_path(self, folder: str) -> Path:
        if folder.upper() == "INBOX":
            return self.root
        name = folder.replace("/", ".")
        return self.root / ("." + imap_utf7.encode(name).decode("ascii"))

    def _existing(self, folder: str) -> Path:
        path = self._folder_path(folder)
        if not (path / "cur").is_dir():
            raise MailFolderError(
                f"Ordner '{folder}' gibt es im Postfach '{self.address.display}' nicht. Vorhanden: "
                f"{', '.join(self.list_folders())}. Bitte den Ordnernamen prüfen."
            )
        return path

    @staticmethod
    def _make_folder_dirs(path: Path) -> None:
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)

    def list_folders(self) -> list[str]:
        names = [
            imap_utf7.decode(entry.name[1:].encode("ascii"))
            for entry in self.root.iterdir()
            if entry.name.startswith(".") and (entry / "cur").is_dir()
        ]
        return ["INBOX", *sorted(names)]

    def folder_exists(self, folder: str) -> bool:
        return (self._folder_path(folder) / "cur").is_dir()

    def create_folder(self, folder: str) -> None:
        path = self._folder_path(folder)
        self._make_folder_dirs(path)
        if path != self.root:
            (path / "maildirfolder").touch()

    # -- files and flags ----------------------------------------------------------------------------

    @staticmethod
    def _files(path: Path) -> dict[str, Path]:
        files: dict[str, Path] = {}
        for sub in ("new", "cur"):
            for entry in os.scandir(path / sub):
                if entry.is_file() and not entry.name.startswith("."):
                    files[entry.name.split(":", 1)[0]] = Path(entry.path)
        return files

    def mail_times(self, folder: str) -> dict[str, int]:
        """The keys of the mails in ``folder`` with their file times (ns): a mail that arrives brings a new key,
        one delivered brings a new time (the control room's mail trigger compares them)."""
        times: dict[str, int] = {}
        for key, path in self._files(self._existing(folder)).items():
            with contextlib.suppress(FileNotFoundError):  # moved away meanwhile
                times[key] = path.stat().st_mtime_ns
        return times

    @staticmethod
    def _sorted_keys(files: dict[str, Path]) -> list[str]:
        def order(key: str) -> tuple[int, int, str]:
            seconds, _, rest = key.partition(".")
            micro = rest[1:].split("P", 1)[0] if rest.startswith("M") else "0"
            return (int(seconds) if seconds.isdigit() else 0, int(micro) if micro.isdigit() else 0, key)

        return sorted(files, key=order)

    @staticmethod
    def _keywords(path: Path) -> list[str]:
        """Keyword names by letter index (``a`` = 0) from ``dovecot-keywords``."""
        names: list[str] = []
        file = path / "dovecot-keywords"
        if file.exists():
            for line in file.read_text(encoding="utf-8").splitlines():
                number, _, name = line.partition(" ")
                if number.isdigit() and name:
                    index = int(number)
                    names.extend([""] * (index + 1 - len(names)))
                    names[index] = name
        return names

    def _keyword_letter(self, path: Path, name: str) -> str:
        names = self._keywords(path)
        if name in names:
            return chr(ord("a") + names.index(name))
        if len(names) >= 26:
            raise MailOperationError(
                f"Ordner '{path.name}' hat schon 26 eigene Kennzeichen; '{name}' passt nicht mehr dazu."
            )
        names.append(name)
        text = "".join(f"{i} {n}\n" for i, n in enumerate(names) if n)
        (path / "dovecot-keywords").write_text(text, encoding="utf-8")
        return chr(ord("a") + len(names) - 1)

    def _flags_of(self, path: Path, file: Path) -> tuple[str, ...]:
        _, _, info = file.name.partition(":2,")
        keywords = self._keywords(path) if any(c.islower() for c in info) else []
        flags = [_LETTERS[c] for c in info if c in _LETTERS]
        for c in info:
            if c.islower() and ord(c) - ord("a") < len(keywords) and keywords[ord(c) - ord("a")]:
                flags.append(keywords[ord(c) - ord("a")])
        return tuple(flags)

    def _info_for(self, path: Path, flags: list[str]) -> str:
        letters = set()
        for flag in flags:
            letters.add(_FLAG_TO_LETTER.get(flag) or self._keyword_letter(path, flag))
        return "".join(sorted(letters))

    def _file(self, folder: str, uid: int | str) -> tuple[Path, Path]:
        path = self._existing(folder)
        file = self._files(path).get(str(uid))
        if file is None:
            raise MessageNotFoundError(
                f"Im Ordner '{folder}' des Postfachs '{self.address.display}' gibt es keine Mail mit dem "
                f"Schlüssel {uid}. Bitte prüfen, ob sie schon verschoben wurde."
            )
        return path, file

    # -- reading ------------------------------------------------------------------------------------

    def search(self, folder: str, criteria: SearchCriteria) -> list[int | str]:
        path = self._existing(folder)
        files = self._files(path)
        found: list[int | str] = []
        for key in self._sorted_keys(files):
            file = files[key]
            if criteria.unseen and "\\Seen" in self._flags_of(path, file):
                continue
            if (criteria.sender or criteria.subject or criteria.since or criteria.before) and not (
                self._matches(file, criteria)
            ):
                continue
            found.append(key)
            if criteria.limit is not None and len(found) >= criteria.limit:
                break
        return found

    @staticmethod
    def _header_bytes(file: Path) -> bytes:
        with open(file, "rb") as handle:
            data = handle.read(65536)
        end = min((i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0), default=len(data))
        return data[: end + 2]

    def _matches(self, file: Path, criteria: SearchCriteria) -> bool:
        mail = build_mail_message(self._header_bytes(file), uid="", folder="")
        if criteria.sender and criteria.sender.lower() not in mail.sender.lower():
            return False
        if criteria.subject and criteria.subject.lower() not in mail.subject.lower():
            return False
        if criteria.since or criteria.before:
            if mail.date is None:
                return False
            day: date = mail.date.date()
            if criteria.since and day < criteria.since:
                return False
            if criteria.before and day >= criteria.before:
                return False
        return True

    def fetch(self, folder: str, uids: list[int | str]) -> list[MailMessage]:
        path = self._existing(folder)
        files = self._files(path)
        messages = []
        for uid in uids:
            file = files.get(str(uid))
            if file is None:
                continue
            messages.append(
                build_mail_message(
                    file.read_bytes(), uid=str(uid), folder=folder, flags=self._flags_of(path, file)
                )
            )
        return messages

    def search_message_id(self, folder: str, message_id: str) -> list[int | str]:
        path = self._existing(folder)
        files = self._files(path)
        found: list[int | str] = []
        for key in self._sorted_keys(files):
            value = _HEADERS.parsebytes(self._header_bytes(files[key])).get("message-id")
            if value and normalize_message_id(" ".join(str(value).split())) == message_id:
                found.append(key)
        return found

    def uid_exists(self, message: MailMessage) -> bool:
        return self.folder_exists(message.folder) and str(message.uid) in self._files(
            self._folder_path(message.folder)
        )

    # -- changing -----------------------------------------------------------------------------------

    def move(self, folder: str, uid: int | str, target: str) -> None:
        path, file = self._file(folder, uid)
        target_path = self._existing(target)
        flags = self._flags_of(path, file)
        key = str(uid)
        if file.parent.name == "new":
            destination = target_path / "new" / file.name
        else:
            destination = target_path / "cur" / f"{key}:2,{self._info_for(target_path, list(flags))}"
        os.rename(file, destination)

    def change_flags(self, folder: str, uid: int | str, flags: list[str], *, add: bool) -> None:
        path, file = self._file(folder, uid)
        current = list(self._flags_of(path, file))
        wanted = [*current, *(f for f in flags if f not in current)] if add else [
            f for f in current if f not in flags
        ]
        key = str(uid)
        os.rename(file, path / "cur" / f"{key}:2,{self._info_for(path, wanted)}")

    def append(self, folder: str, raw: bytes, flags: list[str]) -> None:
        path = self._existing(folder)
        key = new_key()
        tmp = path / "tmp" / key
        with open(tmp, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        if flags:
            os.rename(tmp, path / "cur" / f"{key}:2,{self._info_for(path, flags)}")
        else:
            os.rename(tmp, path / "new" / key)
