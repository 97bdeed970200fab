"""Outgoing mail: building messages and handing them to SMTP or, in demo mode, to a Maildir folder.

Outbox URLs:

- ``smtp://host:25`` (plain), ``smtp+starttls://user@host:587``, ``smtps://user@host:465``
- ``maildir:/path/to/Maildir#Gesendet``: the "file transport" for demos and tests. Nothing leaves the
  machine; each sent message is stored in that folder of the Maildir (created if missing), where a test
  or a clerk can look at it.
"""

from __future__ import annotations

import mimetypes
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from rathaus.mail.backend import MailboxAddress
from rathaus.mail.errors import MailConnectionError, MailSendError
from rathaus.mail.imap import connection_error, tls_context
from rathaus.mail.maildir import MaildirBackend
from rathaus.mail.message import MailMessage, header_text, normalize_message_id


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def build_message(
    sender: str,
    to: Sequence[str],
    subject: str,
    body: str,
    *,
    cc: Sequence[str] = (),
    attachments: Sequence[str | Path] = (),
    in_reply_to: MailMessage | str | None = None,
) -> EmailMessage:
    """A new message with text body, attachments (file names with umlauts RFC 2231-encoded) and thread
    headers; it has a fresh Message-ID and Date."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    domain = sender.rpartition("@")[2].strip("> ") or None
    message["Message-ID"] = make_msgid(domain=domain)
    if in_reply_to is not None:
        if isinstance(in_reply_to, MailMessage):
            parent = normalize_message_id(in_reply_to.message_id or "")
            earlier = header_text(in_reply_to._structure, "references")
        else:
            parent, earlier = normalize_message_id(str(in_reply_to)), ""
        if parent:
            message["In-Reply-To"] = parent
            message["References"] = f"{earlier} {parent}".strip()
    message.set_content(body)
    for item in attachments:
        path = Path(item)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise MailSendError(
                f"Anhang '{path}' kann nicht gelesen werden ({_one_line(error.strerror)}). Bitte Pfad prüfen."
            ) from None
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=path.name)
    return message


class SmtpOutbox:
    """Sends each message over its own SMTP connection (plain, STARTTLS or implicit TLS)."""

    def __init__(
        self,
        address: MailboxAddress,
        password: str | None = None,
        *,
        ca_file: str | None = None,
        timeout: float = 30,
    ) -> None:
        self.address = address
        self._password = password
        self._ca_file = ca_file
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"SmtpOutbox({self.address.url!r})"

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> None:
        address = self.address
        context = tls_context(self._ca_file)
        try:
            if address.scheme == "smtps":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    address.host, address.port, timeout=self.timeout, context=context
                )
            else:
                connection = smtplib.SMTP(address.host, address.port, timeout=self.timeout)
            with connection:
                if address.starttls:
                    connection.starttls(context=context)
                if address.user and self._password is not None:
                    connection.login(address.user, self._password)
                connection.send_message(message, to_addrs=list(recipients))
        except smtplib.SMTPAuthenticationError:
            raise MailConnectionError(
                f"Anmeldung am Mail-Server '{address.display}' fehlgeschlagen: Benutzername oder Passwort "
                "falsch. Bitte Zugangsdaten in der Konfiguration prüfen."
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            raise MailConnectionError(
                f"Mail-Server {address.host}:{address.port} unterstützt das nicht ({_one_line(error)}). "
                "Bitte STARTTLS/Anmeldung in der Outbox-Adresse prüfen."
            ) from None
        except smtplib.SMTPRecipientsRefused as error:
            refused = ", ".join(error.recipients)
            raise MailSendError(
                f"Mail-Server {address.host}:{address.port} lehnt die Empfänger ab: {refused}. "
                "Bitte die Adressen prüfen."
            ) from None
        except smtplib.SMTPException as error:
            raise MailSendError(
                f"Versand über {address.host}:{address.port} fehlgeschlagen ({_one_line(error)}). "
                "Bitte später erneut versuchen oder den Mail-Server prüfen."
            ) from None
        except OSError as error:  # includes timeouts and TLS errors
            raise connection_error(address, error, self.timeout) from None


class MaildirOutbox:
    """The file transport: stores each outgoing message in a Maildir folder instead of sending it."""

    def __init__(self, address: MailboxAddress) -> None:
        self.address = address
        self.folder = address.folder or "Gesendet"
        self._maildir = MaildirBackend(address, create=True)
        if not self._maildir.folder_exists(self.folder):
            self._maildir.create_folder(self.folder)

    def __repr__(self) -> str:
        return f"MaildirOutbox({self.address.url!r})"

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> None:
        del recipients  # the headers already name them
        self._maildir.append(self.folder, message.as_bytes(), [])
