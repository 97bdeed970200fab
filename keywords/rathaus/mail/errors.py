"""Errors of the mail library.

Every error is a :class:`MailError` and also either a :class:`~rathaus.errors.BusinessError` (the mail
itself is the problem: unreadable, attachment too large, message gone) or an
:class:`~rathaus.errors.ApplicationError` (server, password, TLS, folder configuration). Messages are German,
name the mailbox as ``user@host:port`` and never contain a password.
"""

from __future__ import annotations

from rathaus.errors import ApplicationError, BusinessError, RathausError


class MailError(RathausError):
    """Base class of all mail errors."""

    code = "MAIL_ERROR"


class MailConnectionError(MailError, ApplicationError):
    """The server cannot be reached, refused the login or the TLS handshake failed."""

    code = "MAIL_CONNECTION"


class MailConfigurationError(MailError, ApplicationError):
    """A robot configuration names no usable mailbox or outbox, or its password variable is not set."""

    code = "CONFIG_ERROR"


class MailFolderError(MailError, ApplicationError):
    """A folder does not exist (and was not to be created) or cannot be created."""

    code = "MAIL_FOLDER"


class MailOperationError(MailError, ApplicationError):
    """The server refused an operation, e.g. moving, flagging or appending."""

    code = "MAIL_OPERATION"


class MailSendError(MailError, ApplicationError):
    """An outgoing mail could not be handed to the SMTP server or the file transport."""

    code = "MAIL_SEND"


class MessageNotFoundError(MailError, BusinessError):
    """No message with the given Message-ID (or UID) is in the folder."""

    code = "MAIL_MESSAGE_NOT_FOUND"


class UnreadableMailError(MailError, BusinessError):
    """A file or message cannot be read as a mail."""

    code = "MAIL_UNREADABLE"


class MailTooDeepError(UnreadableMailError):
    """The mail's parts are nested deeper than the parser's limit."""

    code = "MAIL_TOO_DEEP"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Die Mail ist tiefer als {limit} Ebenen verschachtelt (Teile oder angehängte Mails in Mails) und "
            "wird nicht geöffnet. Bitte prüfen Sie sie von Hand im Mailprogramm."
        )
        self.limit = limit


class AttachmentTooLargeError(MailError, BusinessError):
    """An attachment is larger than the allowed size."""

    code = "MAIL_ATTACHMENT_TOO_LARGE"
