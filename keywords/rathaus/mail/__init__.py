"""Mail intake and sending for city robots: IMAP/IMAPS/STARTTLS, a Maildir for demos, SMTP.

The contract with the process robot: *a message is never deleted, and moved away only when the robot
says so.* Listing and reading never change a message (not even the ``\\Seen`` flag). The robot records
the case first (work item, Fachverfahren), then calls `Move Message` to file the mail, e.g. into
``Erledigt``. There is no keyword that deletes mail, and ``\\Deleted`` cannot be set with `Add Flags`.
The only place where rathaus sets ``\\Deleted`` is inside `Move Message` on servers without MOVE, for
that one message, right after copying it to the target folder.

Keep the Message-ID (``${mail.message_id}``) in the work item: with `Find Message By Message ID` or by
passing the Message-ID to `Move Message`, the mail is found again in a later run, when the UID may no
longer be valid.
"""

from __future__ import annotations

from pathlib import Path

from robotlibcore import DynamicCore

from rathaus import __version__
from rathaus.mail._base import MailState
from rathaus.mail.errors import (
    AttachmentTooLargeError,
    MailConfigurationError,
    MailConnectionError,
    MailError,
    MailFolderError,
    MailOperationError,
    MailSendError,
    MessageNotFoundError,
    UnreadableMailError,
)
from rathaus.mail.intake import IntakeKeywords, MailCase, mail_case
from rathaus.mail.keywords import (
    AttachmentKeywords,
    ConnectionKeywords,
    OrganizingKeywords,
    ReadingKeywords,
    SendingKeywords,
)
from rathaus.mail.message import Attachment, MailMessage, summarize_eml
from rathaus.translation import load_translation

__all__ = [
    "Attachment",
    "AttachmentTooLargeError",
    "Mail",
    "MailCase",
    "MailConfigurationError",
    "MailConnectionError",
    "MailError",
    "MailFolderError",
    "MailMessage",
    "MailOperationError",
    "MailSendError",
    "MessageNotFoundError",
    "UnreadableMailError",
    "mail_case",
    "summarize_eml",
]


class Mail(DynamicCore):
    """Reads, files and sends mail for city robots.

    = Mailboxes =
    `Open Mailbox` takes a URL: ``imap+starttls://user@host:143``, ``imaps://user@host:993`` or
    ``maildir:/path/to/Maildir`` (the embedded default for demos: no server needed). Passwords are
    given as Robot ``Secret`` values (or plain strings) and never appear in logs or error messages.

    Process robots keep their mailbox in the ``postfach`` section of the city's ``config.yaml`` and
    open it with `Open Mailbox From Configuration`; replies go out through the ``versand`` section with
    `Open Outbox From Configuration`. Passwords then come from the environment variable that
    ``passwort_variable`` names.

    = Never deleted =
    A message is never deleted, and moved away only by an explicit `Move Message` after the robot has
    recorded its case. No keyword deletes mail.

    = Messages =
    `List Messages` returns message objects with the attributes ``uid``, ``folder``, ``message_id``,
    ``subject``, ``sender``, ``sender_address``, ``to``, ``date``, ``flags``, ``attachments``, ``size``
    and ``body``. Keep ``message_id`` in work items and find the mail again with
    `Find Message By Message ID`.

    = Sending =
    `Open Outbox` with ``smtp://``, ``smtp+starttls://``, ``smtps://`` or, for demos,
    ``maildir:/path#Gesendet`` (mail is stored in that folder instead of being sent), then
    `Send Message`.

    = Example =
    | ***** Settings *****
    | Library    rathaus.Mail
    |
    | ***** Tasks *****
    | Eingang verarbeiten
    |     Open Mailbox    imaps://uvg@mail.giessen.de:993    password=${IMAP_PASSWORD}
    |     @{mails} =    List Messages    unseen=True
    |     FOR    ${mail}    IN    @{mails}
    |         @{files} =    Save Attachments    ${mail}    ${CASES}/${mail.uid}    pattern=*.pdf
    |         # ... record the case, then:
    |         Move Message    ${mail}    Erledigt    create_folder=True
    |     END
    |     [Teardown]    Close Mailbox
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_VERSION = __version__
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"

    def __init__(self, language: str = "en") -> None:
        """| =Arguments= | =Description= |
        | ``language`` | Keyword language: ``en`` (default) or ``de`` for German names and documentation. |
        """
        self.state = MailState()
        super().__init__(
            [
                ConnectionKeywords(self.state),
                ReadingKeywords(self.state),
                AttachmentKeywords(self.state),
                IntakeKeywords(self.state),
                OrganizingKeywords(self.state),
                SendingKeywords(self.state),
            ],
            translation=load_translation(Path(__file__).parent, language, "rathaus.Mail"),
        )

    def __repr__(self) -> str:
        backend = self.state.backend
        return f"Mail(mailbox={backend.address.url if backend else None!r})"

    def __enter__(self) -> Mail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close_mailbox()  # type: ignore[attr-defined]
