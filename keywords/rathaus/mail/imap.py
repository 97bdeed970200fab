"""IMAP backend on imapclient: UIDs throughout, one UID SEARCH per search, batched UID FETCH.

Reading uses ``BODY.PEEK[]`` so listing never marks mail as read. Moving uses UID MOVE where the server
offers MOVE, else UID COPY, ``\\Deleted`` on that one UID and UID EXPUNGE of that one UID (UIDPLUS); a plain
EXPUNGE, which would take every message flagged ``\\Deleted`` along, is never sent.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from rathaus.mail.backend import Backend, MailboxAddress, SearchCriteria
from rathaus.mail.errors import MailConnectionError, MailFolderError, MailOperationError
from rathaus.mail.message import MailMessage, build_mail_message

#: Messages per UID FETCH: one round trip each, bounded memory.
FETCH_BATCH = 100

T = TypeVar("T")


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Certificate and host name checking with the system CAs, or only ``ca_file`` if given."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def connection_error(  # noqa: PLR0911
    address: MailboxAddress, error: BaseException, timeout: float
) -> MailConnectionError:
    """A German, password-free error for a failed connection, TLS handshake or login."""
    where = f"{address.host}:{address.port}"
    if isinstance(error, LoginError):
        return MailConnectionError(
            f"Anmeldung am Postfach '{address.display}' fehlgeschlagen: Benutzername oder Passwort falsch. "
            "Bitte Zugangsdaten in der Konfiguration prüfen."
        )
    if isinstance(error, ssl.SSLCertVerificationError):
        return MailConnectionError(
            f"TLS-Verbindung zu {where} fehlgeschlagen: dem Zertifikat des Servers wird nicht vertraut "
            f"({_one_line(error.verify_message)}). Bitte die CA-Datei (ca_file) angeben oder das "
            "Zertifikat des Servers prüfen."
        )
    if isinstance(error, ssl.SSLError):
        return MailConnectionError(
            f"TLS-Verbindung zu {where} fehlgeschlagen ({_one_line(error.reason or error)}). Bitte prüfen, "
            "ob der Port TLS (imaps) oder STARTTLS (imap+starttls) erwartet."
        )
    if isinstance(error, ConnectionRefusedError):
        return MailConnectionError(
            f"Mail-Server {where} nicht erreichbar: Verbindung abgelehnt. Bitte Adresse und Port prüfen "
            "und ob der Server läuft."
        )
    if isinstance(error, (socket.timeout, TimeoutError)):
        return MailConnectionError(
            f"Mail-Server {where} antwortet nicht innerhalb von {timeout:g} s. Bitte Netz und Firewall "
            "prüfen und später erneut versuchen."
        )
    if isinstance(error, socket.gaierror):
        return MailConnectionError(
            f"Mail-Server '{address.host}' ist unbekannt ({_one_line(error.strerror)}). Bitte den "
            "Servernamen in der Konfiguration prüfen."
        )
    if isinstance(error, OSError):
        return MailConnectionError(
            f"Verbindung zu Mail-Server {where} fehlgeschlagen ({_one_line(error.strerror or error)}). "
            "Bitte Netz und Serveradresse prüfen."
        )
    return MailConnectionError(
        f"Verbindung zum Postfach '{address.display}' fehlgeschlagen ({_one_line(error)}). "
        "Bitte Serveradresse, Verschlüsselung und Zugangsdaten prüfen."
    )


class ImapBackend(Backend):
    """A mailbox on an IMAP server (IMAP with STARTTLS, IMAPS, or plain IMAP on request)."""

    def __init__(
        self,
        address: MailboxAddress,
        password: str,
        *,
        ca_file: str | None = None,
        timeout: float = 30,
    ) -> None:
        self.address = address
        self._selected: str | None = None
        self._uidvalidity: int | None = None
        context = tls_context(ca_file)
        client: IMAPClient | None = None
        try:
            if address.scheme == "imaps":
                client = IMAPClient(address.host, address.port, ssl=True, ssl_context=context, timeout=timeout)
            else:
                client = IMAPClient(address.host, address.port, ssl=False, timeout=timeout)
                if address.starttls:
                    if not client.has_capability("STARTTLS"):
                        raise MailConnectionError(
                            f"Mail-Server {address.host}:{address.port} bietet kein STARTTLS an. Bitte "
                            "imaps:// verwenden oder die Verschlüsselung am Server einschalten."
                        )
                    client.starttls(context)
            client.login(address.user, password)
        except MailConnectionError:
            self._shutdown(client)
            raise
        except (IMAPClientError, OSError) as error:
            self._shutdown(client)
            raise connection_error(address, error, timeout) from None
        self.client = client

    @staticmethod
    def _shutdown(client: IMAPClient | None) -> None:
        if client is not None:
            with contextlib.suppress(OSError):
                client.shutdown()

    def close(self) -> None:
        try:
            self.client.logout()
        except (IMAPClientError, OSError):
            self._shutdown(self.client)

    def __repr__(self) -> str:
        return f"ImapBackend({self.address.url!r})"

    # -- helpers ------------------------------------------------------------------------------------

    def _call(self, what: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except (IMAPClientError, OSError) as error:
            raise MailOperationError(
                f"{what} im Postfach '{self.address.display}' fehlgeschlagen: {_one_line(error)}. "
                "Bitte später erneut versuchen oder den Mail-Server prüfen."
            ) from None

    def _select(self, folder: str) -> int | None:
        if self._selected == folder:
            return self._uidvalidity
        try:
            info = self.client.select_folder(folder)
        except IMAPClientError:
            if not self.folder_exists(folder):
                raise MailFolderError(
                    f"Ordner '{folder}' gibt es im Postfach '{self.address.display}' nicht. Vorhanden: "
                    f"{', '.join(self.list_folders())}. Bitte den Ordnernamen prüfen."
                ) from None
            raise
        self._selected = folder
        value = info.get(b"UIDVALIDITY")
        self._uidvalidity = int(value) if value is not None else None
        return self._uidvalidity

    # -- folders ------------------------------------------------------------------------------------

    def list_folders(self) -> list[str]:
        entries = self._call("Ordner auflisten", self.client.list_folders)
        return [_text(name) for _flags, _delimiter, name in entries]

    def folder_exists(self, folder: str) -> bool:
        return self._call("Ordner prüfen", lambda: self.client.folder_exists(folder))

    def create_folder(self, folder: str) -> None:
        self._call("Ordner anlegen", lambda: self.client.create_folder(folder))
        with contextlib.suppress(IMAPClientError):
            self.client.subscribe_folder(folder)

    # -- reading ------------------------------------------------------------------------------------

    def search(self, folder: str, criteria: SearchCriteria) -> list[int | str]:
        self._select(folder)
        query: list[Any] = []
        if criteria.sender:
            query += ["FROM", criteria.sender]
        if criteria.subject:
            query += ["SUBJECT", criteria.subject]
        if criteria.since:
            query += ["SENTSINCE", criteria.since]
        if criteria.before:
            query += ["SENTBEFORE", criteria.before]
        if criteria.unseen:
            query.append("UNSEEN")
        if not query:
            query = ["ALL"]
        texts = [item for item in query if isinstance(item, str)]
        charset = None if all(text.isascii() for text in texts) else "UTF-8"
        uids = sorted(self._call("Suche", lambda: self.client.search(query, charset=charset)))
        return list(uids[: criteria.limit] if criteria.limit is not None else uids)

    def fetch(self, folder: str, uids: list[int | str]) -> list[MailMessage]:
        uidvalidity = self._select(folder)
        messages: list[MailMessage] = []
        wanted = [int(uid) for uid in uids]
        for start in range(0, len(wanted), FETCH_BATCH):
            batch = wanted[start : start + FETCH_BATCH]
            data = self._call("Abruf", lambda b=batch: self.client.fetch(b, ["BODY.PEEK[]", "FLAGS"]))
            for uid in batch:
                item = data.get(uid)
                if item is None or b"BODY[]" not in item:
                    continue  # expunged meanwhile
                flags = tuple(_text(f) for f in item.get(b"FLAGS", ()) if f.lower() != b"\\recent")
                messages.append(
                    build_mail_message(
                        item[b"BODY[]"], uid=uid, folder=folder, flags=flags, uidvalidity=uidvalidity
                    )
                )
        return messages

    def search_message_id(self, folder: str, message_id: str) -> list[int | str]:
        self._select(folder)
        charset = None if message_id.isascii() else "UTF-8"
        found = self._call(
            "Suche nach Message-ID",
            lambda: self.client.search(["HEADER", "Message-ID", message_id], charset=charset),
        )
        return list(sorted(found))

    def uid_exists(self, message: MailMessage) -> bool:
        uidvalidity = self._select(message.folder)
        if message.uidvalidity is not None and message.uidvalidity != uidvalidity:
            return False
        found = self._call("Suche", lambda: self.client.search(["UID", str(message.uid)]))
        return int(message.uid) in found

    # -- changing -----------------------------------------------------------------------------------

    def move(self, folder: str, uid: int | str, target: str) -> None:
        self._select(folder)
        uids = [int(uid)]
        if self.client.has_capability("MOVE"):
            self._call("Verschieben", lambda: self.client.move(uids, target))
            return
        if not self.client.has_capability("UIDPLUS"):
            raise MailOperationError(
                f"Der Mail-Server von '{self.address.display}' kann weder MOVE noch UID EXPUNGE (UIDPLUS). "
                "rathaus verschiebt dort nicht, weil ein einfaches EXPUNGE andere Mails mitlöschen könnte. "
                "Bitte den Server-Betrieb um MOVE oder UIDPLUS bitten."
            )
        self._call("Kopieren", lambda: self.client.copy(uids, target))
        self._call("Markieren", lambda: self.client.add_flags(uids, [b"\\Deleted"], silent=True))
        self._call("Entfernen aus dem Quellordner", lambda: self.client.uid_expunge(uids))

    def change_flags(self, folder: str, uid: int | str, flags: list[str], *, add: bool) -> None:
        self._select(folder)
        uids = [int(uid)]
        if add:
            self._call("Kennzeichnen", lambda: self.client.add_flags(uids, flags, silent=True))
        else:
            self._call("Kennzeichen entfernen", lambda: self.client.remove_flags(uids, flags, silent=True))

    def append(self, folder: str, raw: bytes, flags: list[str]) -> None:
        self._call("Ablegen", lambda: self.client.append(folder, raw, flags=flags))

    # -- watching for new mail (the control room's mail trigger) -----------------------------------------------

    @property
    def can_idle(self) -> bool:
        """Whether the server offers IMAP IDLE (RFC 2177): new mail is reported at once, no polling."""
        return bool(self.client.has_capability("IDLE"))

    def folder_mark(self, folder: str) -> tuple[int, int, int]:
        """``(UIDVALIDITY, UIDNEXT, MESSAGES)`` of ``folder``: UIDNEXT grows with each mail that arrives, also one
        moved into the folder, and not when mail leaves it."""
        status = self._call("Ordnerstatus", lambda: self.client.folder_status(
            folder, [b"UIDVALIDITY", b"UIDNEXT", b"MESSAGES"]))
        return int(status[b"UIDVALIDITY"]), int(status[b"UIDNEXT"]), int(status[b"MESSAGES"])

    def wait_for_mail(self, folder: str, timeout: float, stop: Callable[[], bool] = lambda: False) -> bool:
        """Waits in IMAP IDLE on ``folder`` up to ``timeout`` seconds, or until ``stop()`` is true (asked once a
        second); True as soon as the server reports a new message (``EXISTS``). A dropped connection raises
        :class:`MailOperationError`."""
        self._select(folder)

        def idle() -> bool:
            self.client.idle()
            try:
                deadline = time.monotonic() + timeout
                while not stop() and (remaining := deadline - time.monotonic()) > 0:
                    for response in self.client.idle_check(timeout=min(1.0, remaining)):
                        if response and response[0] == b"BYE":
                            raise OSError("Der Mail-Server hat die Verbindung beendet")
                        if len(response) > 1 and response[1] == b"EXISTS":
                            return True
                return False
            finally:
                with contextlib.suppress(IMAPClientError, OSError):
                    self.client.idle_done()

        return self._call("Warten auf neue Mail (IDLE)", idle)
