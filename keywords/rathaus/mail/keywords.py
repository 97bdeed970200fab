"""The keyword components of :class:`rathaus.mail.Mail`, one concern each."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.api.types import Secret

from rathaus.mail._base import MailComponent, as_list, parse_size, secret_value
from rathaus.mail.backend import SearchCriteria, normalize_flag, parse_address
from rathaus.mail.errors import AttachmentTooLargeError, MailConfigurationError, MailError, MailFolderError
from rathaus.mail.message import MailMessage, safe_filename, unique_path
from rathaus.mail.smtp import MaildirOutbox, SmtpOutbox, build_message


class ConnectionKeywords(MailComponent):
    """Opening and closing the mailbox, folders."""

    @keyword
    def open_mailbox(
        self,
        url: str,
        password: Secret | str | None = None,
        user: str | None = None,
        starttls: bool | None = None,
        ca_file: str | None = None,
        timeout: float = 30,
        create: bool = False,
    ) -> None:
        """Opens the mailbox at ``url`` for the following keywords; an open one is closed first.

        | =Arguments= | =Description= |
        | ``url``      | ``imap+starttls://user@host:143``, ``imaps://user@host:993`` or ``maildir:/path``. |
        | ``password`` | The password, preferably a Robot ``Secret``; never logged. Not needed for Maildir. |
        | ``user``     | Overrides the user in the URL, e.g. one that contains ``@``. |
        | ``starttls`` | ``True`` upgrades ``imap://`` with STARTTLS; ``False`` keeps it plain. |
        | ``ca_file``  | PEM file of the CA to trust instead of the system CAs (self-signed test servers). |
        | ``timeout``  | Seconds to wait for the server per operation. |
        | ``create``   | Maildir only: create the Maildir if missing. |

        Fails with an ``ApplicationError`` naming ``user@host:port`` (never the password) if the server
        is unreachable, TLS fails or the login is refused.

        Example:
        | `Open Mailbox` | imaps://uvg@mail.giessen.de:993 | password=${IMAP_PASSWORD} |
        | `Open Mailbox` | maildir:${CURDIR}/demo/Maildir |

        See also `Close Mailbox`, `List Messages`.
        """
        address = parse_address(url, user=user, starttls=starttls)
        self.close_mailbox()
        if address.scheme == "maildir":
            from rathaus.mail.maildir import MaildirBackend

            self.state.backend = MaildirBackend(address, create=create)
        elif address.scheme in ("imap", "imaps"):
            from rathaus.mail.imap import ImapBackend

            secret = secret_value(password)
            if secret is None:
                raise MailError(
                    f"Für das Postfach '{address.display}' fehlt das Passwort. Bitte 'password' angeben."
                )
            self.state.backend = ImapBackend(address, secret, ca_file=ca_file, timeout=timeout)
        else:
            raise MailError(
                f"'{address.url}' ist kein Postfach zum Lesen. Für den Versand bitte 'Open Outbox' verwenden."
            )
        logger.info(f"Postfach {address.url} geöffnet.")

    @keyword
    def open_mailbox_from_configuration(self, settings: Mapping[str, Any], create: bool = True) -> None:
        """Opens the mailbox that a process configuration describes, e.g. ``${CONFIG.postfach}``.

        The section's keys: ``url`` (as for `Open Mailbox`), ``passwort_variable`` (optional: name of
        the environment variable that holds the password; the password is read from the environment as
        a Robot ``Secret`` and never logged) and ``ca_datei`` (optional: PEM file of the CA to trust).
        Other keys of the section, such as folder names, are ignored.

        | =Arguments= | =Description= |
        | ``settings`` | The configuration section: ``url``, optionally ``passwort_variable`` and ``ca_datei``. |
        | ``create``   | Maildir only: create the Maildir if missing (default ``True``). |

        Fails with an ``ApplicationError`` (code ``SECRET_MISSING``) naming the variable, never its value,
        when ``passwort_variable`` names a variable that is not set, and as `Open Mailbox` does when the
        server cannot be reached or refuses the login.

        Example:
        | `Open Mailbox From Configuration` | ${CONFIG.postfach} |
        | @{mails} = | `List Messages` | folder=${CONFIG.postfach.eingang} |

        See also `Open Outbox From Configuration`, `Open Mailbox`.
        """
        url = _setting(settings, "url", "postfach")
        self.open_mailbox(
            url, password=password_from_environment(settings), ca_file=settings.get("ca_datei"), create=create
        )

    @keyword
    def close_mailbox(self) -> None:
        """Closes the open mailbox (logs out from IMAP); does nothing if none is open.

        | =Arguments= | =Description= |
        | (none) | |

        Example:
        | [Teardown] | `Close Mailbox` |

        See also `Open Mailbox`.
        """
        backend, self.state.backend = self.state.backend, None
        if backend is not None:
            backend.close()

    @keyword
    def list_folders(self) -> list[str]:
        """Returns the names of all folders of the open mailbox, ``INBOX`` included.

        | =Arguments= | =Description= |
        | (none) | |

        Example:
        | ${folders} = | `List Folders` |
        | Should Contain | ${folders} | Erledigt |

        See also `Create Folder`, `Open Mailbox`.
        """
        return self.mailbox.list_folders()

    @keyword
    def create_folder(self, name: str) -> None:
        """Creates folder ``name`` in the open mailbox unless it exists.

        | =Arguments= | =Description= |
        | ``name`` | Folder name, e.g. ``Erledigt`` or ``Erledigt.2025`` (``.`` separates levels on Dovecot). |

        Example:
        | `Create Folder` | Erledigt |

        See also `List Folders`, `Move Message`.
        """
        if not self.mailbox.folder_exists(name):
            self.mailbox.create_folder(name)


class ReadingKeywords(MailComponent):
    """Searching and reading messages."""

    @keyword
    def list_messages(
        self,
        folder: str = "INBOX",
        sender: str | None = None,
        subject: str | None = None,
        since: date | None = None,
        before: date | None = None,
        unseen: bool = False,
        limit: int | None = None,
    ) -> list[MailMessage]:
        """Returns the messages of ``folder`` that match every given criterion, oldest first.

        Listing never marks a message as read. On IMAP it is one UID SEARCH and one UID FETCH per 100
        messages, however many messages match.

        | =Arguments= | =Description= |
        | ``folder``  | Folder to search, default ``INBOX``. |
        | ``sender``  | Text the From header contains (name or address), case-insensitive. |
        | ``subject`` | Text the subject contains, case-insensitive; umlauts are fine. |
        | ``since``   | Only messages whose Date header is on or after this day, e.g. ``2025-03-01``. |
        | ``before``  | Only messages whose Date header is before this day. |
        | ``unseen``  | ``True`` for unread messages only. |
        | ``limit``   | At most this many (the oldest). |

        Each message has the attributes ``uid``, ``folder``, ``message_id``, ``subject``, ``sender``,
        ``sender_address``, ``to``, ``date``, ``flags``, ``attachments`` (each with ``filename``,
        ``content_type``, ``size``), ``size`` and ``body``.

        Example:
        | @{mails} = | `List Messages` | subject=Unterhaltsvorschuss | unseen=True |
        | FOR | ${mail} | IN | @{mails} |
        | | Log | ${mail.message_id}: ${mail.subject} |
        | END |

        See also `Find Message By Message ID`, `Save Attachments`, `Move Message`.
        """
        criteria = SearchCriteria(sender, subject, since, before, unseen, limit)
        uids = self.mailbox.search(folder, criteria)
        messages = self.mailbox.fetch(folder, uids)
        logger.info(f"{len(messages)} Mail(s) in '{folder}' gefunden.")
        return messages

    @keyword("Find Message By Message ID")
    def find_message_by_message_id(self, message_id: str, folder: str = "INBOX") -> MailMessage:
        """Returns the message with Message-ID ``message_id`` in ``folder``.

        Use this to come back to a mail in a later run: UIDs are only valid while the folder's
        UIDVALIDITY holds, the Message-ID stays. Fails with a ``BusinessError`` if no such message is in
        the folder.

        | =Arguments= | =Description= |
        | ``message_id`` | The Message-ID header, with or without angle brackets. |
        | ``folder``     | Folder to look in, default ``INBOX``. |

        Example:
        | ${mail} = | `Find Message By Message ID` | ${item}[message_id] |

        See also `List Messages`, `Move Message`.
        """
        return self.mailbox.find_by_message_id(folder, message_id)

    @keyword
    def get_message_text(self, message: MailMessage | str, folder: str = "INBOX") -> str:
        """Returns the text of a message: its plain-text part, else its HTML part without tags.

        | =Arguments= | =Description= |
        | ``message`` | A message from `List Messages`, or a Message-ID. |
        | ``folder``  | Folder to look in when ``message`` is a Message-ID. |

        Example:
        | ${text} = | `Get Message Text` | ${mail} |

        See also `List Messages`.
        """
        if isinstance(message, MailMessage):
            return message.body
        return self.mailbox.find_by_message_id(folder, message).body


class AttachmentKeywords(MailComponent):
    """Saving attachments and whole messages to disk."""

    @keyword
    def save_attachments(
        self,
        message: MailMessage | str,
        directory: str | os.PathLike[str],
        pattern: str | None = None,
        max_size: int | str | None = None,
        too_large: str = "fail",
        folder: str = "INBOX",
    ) -> list[str]:
        """Saves the attachments of ``message`` into ``directory`` and returns the paths.

        File names are decoded (RFC 2047/2231, umlauts, latin-1), reduced to a safe name without path
        parts, and never overwrite a file: a second ``antrag.pdf`` becomes ``antrag-2.pdf``. Unnamed
        attachments become ``anhang-<n>.<ext>``.

        | =Arguments= | =Description= |
        | ``message``   | A message from `List Messages`, or a Message-ID. |
        | ``directory`` | Target folder, created if missing. |
        | ``pattern``   | Only attachments whose name matches this glob, e.g. ``*.pdf`` (any case). |
        | ``max_size``  | Largest allowed attachment, e.g. ``10 MB``, ``512 KiB`` or bytes. |
        | ``too_large`` | ``fail`` (default): fail with a ``BusinessError``, write nothing; ``skip``: leave out. |
        | ``folder``    | Folder to look in when ``message`` is a Message-ID. |

        With ``too_large=skip`` the names of the attachments left out are kept: `Get Skipped Attachments`
        returns them, so that the case can go to a clerk instead of being finished without them.

        Example:
        | @{files} = | `Save Attachments` | ${mail} | ${case_dir} | pattern=*.pdf | max_size=20 MB |

        See also `List Messages`, `Save Message`, `Get Skipped Attachments`.
        """
        if too_large not in ("fail", "skip"):
            raise MailError(f"too_large='{too_large}' ist ungültig: erlaubt sind 'fail' und 'skip'.")
        mail = message if isinstance(message, MailMessage) else self.mailbox.find_by_message_id(folder, message)
        limit = parse_size(max_size)
        self.state.skipped = []
        chosen = []
        for attachment in mail.attachments:
            if pattern and not fnmatch.fnmatch(attachment.filename.lower(), pattern.lower()):
                continue
            if limit is not None and attachment.size > limit:
                text = (
                    f"Anhang '{attachment.filename}' der Mail {mail.message_id or mail.subject!r} ist "
                    f"{attachment.size} Bytes groß, erlaubt sind {limit} Bytes."
                )
                if too_large == "fail":
                    raise AttachmentTooLargeError(f"{text} Bitte die Mail von Hand bearbeiten.")
                logger.warn(f"{text} Er wird übersprungen.")
                self.state.skipped.append(attachment.filename)
                continue
            chosen.append(attachment)
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        saved = []
        for attachment in chosen:
            path = unique_path(target, attachment.filename)
            with open(path, "xb") as handle:
                handle.write(mail.attachment_data(attachment.index))
            saved.append(str(path))
        logger.info(f"{len(saved)} Anhang/Anhänge nach {target} gespeichert.")
        return saved

    @keyword
    def get_skipped_attachments(self) -> list[str]:
        """Returns the names of the attachments that the last `Save Attachments` left out as too large.

        Only ``too_large=skip`` leaves attachments out; the list is empty when nothing was left out, and
        each `Save Attachments` call starts a new list. Keep the names with the case (e.g. as the work item
        variable ``uebersprungene_anhaenge``) and hand the case to a clerk with
        `Check Skipped Attachments`, so that no case is finished without its enclosures.

        | =Arguments= | =Description= |
        | (none) | |

        Example:
        | @{files} = | `Save Attachments` | ${mail} | ${folder} | max_size=25 MB | too_large=skip |
        | @{skipped} = | `Get Skipped Attachments` |

        See also `Save Attachments`, `Check Skipped Attachments`.
        """
        return list(self.state.skipped)

    @keyword
    def check_skipped_attachments(
        self, skipped: list[str] | str | None, message_id: str, max_size: int | str | None = None
    ) -> None:
        """Fails with a ``BusinessError`` when attachments of mail ``message_id`` were left out as too large.

        Does nothing when ``skipped`` is empty. Otherwise the German message names the mail, the number
        and names of the attachments and the size limit, and tells the clerk to take the enclosures from
        the mail by hand (or ask the sender for smaller files). The error code is
        ``MAIL_ATTACHMENT_TOO_LARGE``, the same as `Save Attachments` with ``too_large=fail``.

        | =Arguments= | =Description= |
        | ``skipped``    | Names from `Get Skipped Attachments`, e.g. kept in a work item variable. |
        | ``message_id`` | The mail's Message-ID, to name the case. |
        | ``max_size``   | The limit that was applied, e.g. ``25 MB``, to name it in the message. |

        Example:
        | ${skipped} = | Get Work Item Variable | uebersprungene_anhaenge | ${{[]}} |
        | `Check Skipped Attachments` | ${skipped} | ${case} | max_size=25 MB |

        See also `Get Skipped Attachments`, `Save Attachments`.
        """
        names = [skipped] if isinstance(skipped, str) else [str(name) for name in skipped or []]
        if not names:
            return
        limit = f"größer als {_size_text(max_size)}" if max_size not in (None, "") else "zu groß"
        listed = ", ".join(f"'{name}'" for name in names)
        if len(names) == 1:
            what = f"Der Anhang {listed} ist {limit} und wurde nicht übernommen."
            todo = "den Anhang aus der Mail ablegen oder beim Absender kleiner anfordern"
        else:
            what = f"{len(names)} Anhänge sind {limit} und wurden nicht übernommen: {listed}."
            todo = "die Anhänge aus der Mail ablegen oder beim Absender kleiner anfordern"
        raise AttachmentTooLargeError(f"Mail {message_id}: {what} Bitte den Fall von Hand bearbeiten und {todo}.")

    @keyword
    def save_message(
        self,
        message: MailMessage | str,
        directory: str | os.PathLike[str],
        filename: str | None = None,
        folder: str = "INBOX",
    ) -> str:
        """Saves the whole message as an ``.eml`` file into ``directory`` and returns the path.

        | =Arguments= | =Description= |
        | ``message``   | A message from `List Messages`, or a Message-ID. |
        | ``directory`` | Target folder, created if missing. |
        | ``filename``  | File name; default is the subject plus ``.eml``. Made safe, never overwrites. |
        | ``folder``    | Folder to look in when ``message`` is a Message-ID. |

        Example:
        | ${eml} = | `Save Message` | ${mail} | ${case_dir} | filename=eingang.eml |

        See also `Save Attachments`.
        """
        mail = message if isinstance(message, MailMessage) else self.mailbox.find_by_message_id(folder, message)
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        name = safe_filename(filename or f"{mail.subject}.eml", 1, "message/rfc822")
        path = unique_path(target, name)
        with open(path, "xb") as handle:
            handle.write(mail.raw)
        return str(path)


class OrganizingKeywords(MailComponent):
    """Moving messages and setting flags. There is deliberately no keyword that deletes mail."""

    @keyword
    def move_message(
        self,
        message: MailMessage | str,
        target: str,
        folder: str | None = None,
        create_folder: bool = False,
    ) -> None:
        """Moves ``message`` to folder ``target``. Call it only after the case is recorded.

        On IMAP this is UID MOVE where the server offers MOVE, else UID COPY, ``\\Deleted`` on that one
        message and UID EXPUNGE of just that message, so other messages flagged ``\\Deleted`` stay. In a
        Maildir it is one atomic rename. A message object whose UID is no longer valid (a later run, a
        rebuilt folder) is found again by its Message-ID.

        | =Arguments= | =Description= |
        | ``message``       | A message from `List Messages`, or a Message-ID. |
        | ``target``        | Folder to move to, e.g. ``Erledigt``. |
        | ``folder``        | Folder of the message; default its own, or ``INBOX`` for a Message-ID. |
        | ``create_folder`` | ``True`` creates ``target`` if missing, else a missing folder fails. |

        Example:
        | `Move Message` | ${mail} | Erledigt | create_folder=True |
        | `Move Message` | ${item}[message_id] | Erledigt |

        See also `Find Message By Message ID`, `Add Flags`, `Create Folder`.
        """
        backend = self.mailbox
        if not backend.folder_exists(target):
            if not create_folder:
                raise MailFolderError(
                    f"Zielordner '{target}' gibt es im Postfach '{backend.address.display}' nicht. Bitte "
                    "den Ordner anlegen oder create_folder=True angeben."
                )
            backend.create_folder(target)
        where, uid = backend.resolve(message, folder)
        backend.move(where, uid, target)
        logger.info(f"Mail {_describe(message)} von '{where}' nach '{target}' verschoben.")

    @keyword
    def add_flags(self, message: MailMessage | str, *flags: str, folder: str | None = None) -> None:
        """Sets flags on ``message``: ``Seen``, ``Flagged``, ``Answered``, ``Draft`` or keywords.

        System flags may be written with or without backslash (``Seen`` or ``\\\\Seen``); keywords like
        ``$Bearbeitet`` are set as given. ``\\Deleted`` is refused: rathaus does not delete mail.

        | =Arguments= | =Description= |
        | ``message`` | A message from `List Messages`, or a Message-ID. |
        | ``flags``   | One or more flags. |
        | ``folder``  | Folder of the message; default as in `Move Message`. |

        Example:
        | `Add Flags` | ${mail} | Seen | $Bearbeitet |

        See also `Remove Flags`, `Move Message`.
        """
        self._change(message, flags, folder, add=True)

    @keyword
    def remove_flags(self, message: MailMessage | str, *flags: str, folder: str | None = None) -> None:
        """Removes flags from ``message``; the counterpart of `Add Flags`.

        | =Arguments= | =Description= |
        | ``message`` | A message from `List Messages`, or a Message-ID. |
        | ``flags``   | One or more flags, e.g. ``Seen`` to mark it unread again. |
        | ``folder``  | Folder of the message; default as in `Move Message`. |

        Example:
        | `Remove Flags` | ${mail} | Seen |

        See also `Add Flags`.
        """
        self._change(message, flags, folder, add=False)

    def _change(self, message: MailMessage | str, flags: tuple[str, ...], folder: str | None, add: bool) -> None:
        if not flags:
            raise MailError("Bitte mindestens ein Kennzeichen angeben, z. B. Seen oder $Bearbeitet.")
        names = [normalize_flag(flag) for flag in flags]
        where, uid = self.mailbox.resolve(message, folder)
        self.mailbox.change_flags(where, uid, names, add=add)


class SendingKeywords(MailComponent):
    """Sending mail over SMTP or into a Maildir folder (demo file transport)."""

    @keyword
    def open_outbox(
        self,
        url: str,
        password: Secret | str | None = None,
        user: str | None = None,
        ca_file: str | None = None,
        timeout: float = 30,
    ) -> None:
        """Sets where `Send Message` hands mail to.

        | =Arguments= | =Description= |
        | ``url``      | ``smtp://host:25``, ``smtp+starttls://user@host:587``, ``smtps://…``, ``maildir:/p#Sent``. |
        | ``password`` | SMTP password, preferably a Robot ``Secret``; login happens only with user and password. |
        | ``user``     | Overrides the user in the URL. |
        | ``ca_file``  | PEM file of the CA to trust instead of the system CAs. |
        | ``timeout``  | Seconds to wait for the server. |

        Example:
        | `Open Outbox` | smtp+starttls://robot@mail.giessen.de:587 | password=${SMTP_PASSWORD} |
        | `Open Outbox` | maildir:${CURDIR}/demo/Maildir#Gesendet |

        See also `Send Message`.
        """
        address = parse_address(url, user=user)
        if address.scheme == "maildir":
            self.state.outbox = MaildirOutbox(address)
        elif address.scheme in ("smtp", "smtps"):
            self.state.outbox = SmtpOutbox(address, secret_value(password), ca_file=ca_file, timeout=timeout)
        else:
            raise MailError(f"'{address.url}' ist keine Versandadresse. Erlaubt: smtp://, smtps://, maildir:.")
        logger.info(f"Versand über {address.url}.")

    @keyword
    def open_outbox_from_configuration(
        self, settings: Mapping[str, Any], mailbox: Mapping[str, Any] | None = None
    ) -> str | None:
        """Opens the outbox that a process configuration describes, e.g. ``${CONFIG.versand}``.

        With ``smtp`` in the section, mail is sent over that server: ``smtp_starttls: true`` upgrades an
        ``smtp://`` address with STARTTLS, ``benutzer`` is the login, ``passwort_variable`` names the
        environment variable with the password (read as a Robot ``Secret``, never logged), and the CA of
        the mailbox section (``ca_datei``) is trusted. Without ``smtp`` and with a Maildir mailbox, mail is
        stored in the mailbox's folder ``gesendet`` (default ``Gesendet``) instead of being sent.

        | =Arguments= | =Description= |
        | ``settings`` | The ``versand`` section (all keys optional, see above). |
        | ``mailbox``  | The ``postfach`` section (``url``, ``ca_datei``); default: the open Maildir mailbox. |

        Returns the folder in which `Send Message` should keep a copy (``save_copy_to``): ``gesendet`` when
        mail goes out over SMTP, ``None`` for the Maildir outbox, which keeps every mail there anyway.
        Fails with an ``ApplicationError`` (code ``CONFIG_ERROR``) for an IMAP mailbox without ``smtp``, and
        with code ``SECRET_MISSING`` when the password variable is not set.

        Example:
        | ${copy} = | `Open Outbox From Configuration` | ${CONFIG.versand} | ${CONFIG.postfach} |
        | `Send Message` | ${CONFIG.versand.absender} | ${to} | ${subject} | ${body} | save_copy_to=${copy} |

        See also `Open Mailbox From Configuration`, `Open Outbox`, `Send Message`.
        """
        sent = str(settings.get("gesendet") or "Gesendet")
        mailbox = mailbox or {}
        smtp = settings.get("smtp")
        if smtp:
            url = str(smtp)
            if settings.get("smtp_starttls") and url.lower().startswith("smtp://"):
                url = "smtp+starttls://" + url[len("smtp://") :]
            self.open_outbox(
                url,
                password=password_from_environment(settings),
                user=settings.get("benutzer"),
                ca_file=settings.get("ca_datei") or mailbox.get("ca_datei"),
            )
            return sent
        mailbox_url = str(mailbox.get("url") or "")
        if not mailbox_url and self.state.backend is not None and self.state.backend.address.scheme == "maildir":
            mailbox_url = self.state.backend.address.url
        if mailbox_url.startswith("maildir:"):
            self.open_outbox(f"{mailbox_url}#{sent}")
            return None
        raise MailConfigurationError(
            "Für ein IMAP-Postfach braucht die Konfiguration 'versand.smtp'. Bitte ergänzen.", code="CONFIG_ERROR"
        )

    @keyword
    def send_message(
        self,
        sender: str,
        to: str | list[str],
        subject: str,
        body: str,
        cc: str | list[str] | None = None,
        bcc: str | list[str] | None = None,
        attachments: str | list[str] | None = None,
        in_reply_to: MailMessage | str | None = None,
        save_copy_to: str | None = None,
    ) -> str:
        """Sends a text mail with attachments through the outbox and returns its Message-ID.

        | =Arguments= | =Description= |
        | ``sender``       | From address, e.g. ``Stadt Gießen <uvg@giessen.de>``. |
        | ``to``           | Recipient(s): a list or a comma-separated string. |
        | ``subject``      | Subject. |
        | ``body``         | Plain text. |
        | ``cc``, ``bcc``  | Further recipients; ``bcc`` does not appear in the headers. |
        | ``attachments``  | Path or list of paths; names with umlauts are encoded per RFC 2231. |
        | ``in_reply_to``  | A message or Message-ID this answers: sets In-Reply-To and References. |
        | ``save_copy_to`` | Also store the sent mail, marked read, in this folder of the open mailbox. |

        Example:
        | ${id} = | `Send Message` | uvg@giessen.de | ${mail.sender_address} | Re: ${mail.subject} | ${text} |
        | ... | attachments=${bescheid} | in_reply_to=${mail} | save_copy_to=Gesendet |

        See also `Open Outbox`, `Append Message`.
        """
        if self.state.outbox is None:
            raise MailError("Kein Versandweg eingerichtet. Bitte zuerst 'Open Outbox' aufrufen.")
        recipients = as_list(to)
        copies = as_list(cc)
        if not recipients:
            raise MailError("Send Message: kein Empfänger angegeben (to).")
        files = [attachments] if isinstance(attachments, str) else list(attachments or [])
        message = build_message(
            sender, recipients, subject, body, cc=copies, attachments=files, in_reply_to=in_reply_to
        )
        self.state.outbox.send(message, [*recipients, *copies, *as_list(bcc)])
        if save_copy_to:
            self._append(message.as_bytes(), save_copy_to, ["\\Seen"], create_folder=True)
        message_id = str(message["Message-ID"])
        # recipients are often citizens: the log names how many, never who
        count = len(recipients) + len(copies) + len(as_list(bcc))
        logger.info(f"Mail {message_id} an {count} Empfänger versendet.")
        return message_id

    @keyword
    def append_message(
        self,
        message: MailMessage | bytes | str | os.PathLike[str],
        folder: str,
        flags: list[str] | None = None,
        create_folder: bool = True,
    ) -> None:
        """Stores a message in ``folder`` of the open mailbox (IMAP APPEND or a new Maildir file).

        | =Arguments= | =Description= |
        | ``message``       | A message object, raw bytes, or the path of an ``.eml`` file. |
        | ``folder``        | Target folder, e.g. ``Gesendet``. |
        | ``flags``         | Flags to set, e.g. ``['Seen']``. |
        | ``create_folder`` | Create the folder if missing (default). |

        Example:
        | `Append Message` | ${CURDIR}/antwort.eml | Gesendet | flags=${{['Seen']}} |

        See also `Send Message`.
        """
        if isinstance(message, MailMessage):
            raw = message.raw
        elif isinstance(message, bytes):
            raw = message
        else:
            raw = Path(message).read_bytes()
        self._append(raw, folder, [normalize_flag(flag) for flag in flags or []], create_folder=create_folder)

    def _append(self, raw: bytes, folder: str, flags: list[str], *, create_folder: bool) -> None:
        backend = self.mailbox
        if not backend.folder_exists(folder):
            if not create_folder:
                raise MailFolderError(
                    f"Ordner '{folder}' gibt es im Postfach '{backend.address.display}' nicht. Bitte anlegen "
                    "oder create_folder=True angeben."
                )
            backend.create_folder(folder)
        backend.append(folder, raw, flags)


def password_from_environment(settings: Mapping[str, Any]) -> Secret | None:
    """The password of a configuration section, from the environment variable ``passwort_variable``
    names, as a Robot ``Secret``; ``None`` when the section names no variable."""
    variable = settings.get("passwort_variable")
    if not variable:
        return None
    value = os.environ.get(str(variable))
    if not value:
        raise MailConfigurationError(
            f"Die Umgebungsvariable '{variable}' mit dem Passwort ist nicht gesetzt. "
            "Bitte im Runner hinterlegen und den Lauf erneut starten.",
            code="SECRET_MISSING",
        )
    return Secret(value)


def _setting(settings: Mapping[str, Any], key: str, section: str) -> str:
    value = settings.get(key) if isinstance(settings, Mapping) else None
    if not value:
        raise MailConfigurationError(
            f"Im Konfigurationsabschnitt '{section}' fehlt '{key}'. Bitte in der config.yaml ergänzen."
        )
    return str(value)


def _size_text(value: int | str) -> str:
    text = str(value).strip()
    return f"{text} Bytes" if text.isdigit() else text


def _describe(message: MailMessage | str) -> str:
    return message.message_id or repr(message.subject) if isinstance(message, MailMessage) else message
