"""The Mail library against a real Dovecot (STARTTLS, IMAPS) and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from imapclient import IMAPClient
from rathaus.errors import ApplicationError
from rathaus.mail import Mail
from rathaus.mail.errors import MailConnectionError, MailFolderError, MessageNotFoundError
from rathaus.mail.message import build_mail_message
from rathaus.mail.smtp import build_message
from support.dovecot import Dovecot, free_port
from support.smtp import SmtpServer

pytestmark = pytest.mark.imap

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def raw_mail(
    tmp: Path,
    subject: str,
    sender: str = "Erika Müller <erika@example.de>",
    day: int = 1,
    attachment: str | None = "antrag.pdf",
) -> bytes:
    files = []
    if attachment:
        folder = tmp / uuid.uuid4().hex
        folder.mkdir()
        (folder / attachment).write_bytes(PDF)
        files.append(folder / attachment)
    message = build_message(sender, ["uvg@giessen.de"], subject, "Guten Tag", attachments=files)
    del message["Date"]
    message["Date"] = f"Mon, {day:02d} Sep 2025 09:00:00 +0200"
    return message.as_bytes()


def new_folder() -> str:
    return f"T{uuid.uuid4().hex[:10]}"


def open_mail(server: Dovecot, tls: str = "starttls") -> Mail:
    library = Mail()
    library.open_mailbox(server.url(tls=tls), password=server.users["uvg"], ca_file=str(server.cert_file))
    return library


@pytest.fixture
def mail(dovecot: Dovecot) -> Iterator[Mail]:
    library = open_mail(dovecot)
    yield library
    library.close_mailbox()


def test_starttls_and_imaps(dovecot: Dovecot) -> None:
    folder = new_folder()
    dovecot.deliver("uvg", folder, b"From: a@example.de\r\nSubject: hallo\r\n\r\nText\r\n")
    for tls in ("starttls", "imaps"):
        with open_mail(dovecot, tls) as library:
            assert folder in library.list_folders()
            assert [m.subject for m in library.list_messages(folder=folder)] == ["hallo"]


def test_secret_password_is_accepted(dovecot: Dovecot) -> None:
    from robot.api.types import Secret

    library = Mail()
    library.open_mailbox(dovecot.url(), password=Secret(dovecot.users["uvg"]), ca_file=str(dovecot.cert_file))
    assert dovecot.users["uvg"] not in repr(library)
    assert dovecot.users["uvg"] not in repr(library.state.backend)
    library.close_mailbox()


def test_wrong_password_names_account_not_password(dovecot: Dovecot) -> None:
    secret = "Falsches-Passwort-999"
    with pytest.raises(MailConnectionError) as error:
        Mail().open_mailbox(dovecot.url(), password=secret, ca_file=str(dovecot.cert_file))
    text = str(error.value)
    assert isinstance(error.value, ApplicationError)
    assert text == (
        f"Anmeldung am Postfach 'uvg@127.0.0.1:{dovecot.port_imap}' fehlgeschlagen: Benutzername oder "
        "Passwort falsch. Bitte Zugangsdaten in der Konfiguration prüfen."
    )
    assert secret not in text and secret not in repr(error.value)


def test_untrusted_certificate_and_refused_connection(dovecot: Dovecot) -> None:
    with pytest.raises(MailConnectionError, match=r"TLS-Verbindung zu 127\.0\.0\.1:\d+ .*ca_file"):
        Mail().open_mailbox(dovecot.url(tls="imaps"), password=dovecot.users["uvg"])
    port = free_port()
    with pytest.raises(MailConnectionError, match=f"127.0.0.1:{port} nicht erreichbar"):
        Mail().open_mailbox(f"imap://uvg@127.0.0.1:{port}", password="x")


def test_search_criteria(dovecot: Dovecot, mail: Mail, tmp_path: Path) -> None:
    folder = new_folder()
    dovecot.deliver("uvg", folder, raw_mail(tmp_path, "Antrag Unterhaltsvorschuss", day=1))
    dovecot.deliver("uvg", folder, raw_mail(tmp_path, "Rückfrage zum Bescheid", "max@example.org", day=5))
    dovecot.deliver("uvg", folder, raw_mail(tmp_path, "Antrag Wohngeld", "Jörg <joerg@example.de>", day=9),
                    flags=("\\Seen",))

    def subjects(**criteria: object) -> list[str]:
        return [m.subject for m in mail.list_messages(folder=folder, **criteria)]

    assert subjects() == ["Antrag Unterhaltsvorschuss", "Rückfrage zum Bescheid", "Antrag Wohngeld"]
    assert subjects(subject="Antrag") == ["Antrag Unterhaltsvorschuss", "Antrag Wohngeld"]
    assert subjects(subject="Rückfrage") == ["Rückfrage zum Bescheid"]
    assert subjects(sender="Jörg") == ["Antrag Wohngeld"]
    assert subjects(sender="example.org") == ["Rückfrage zum Bescheid"]
    assert subjects(since=date(2025, 9, 5)) == ["Rückfrage zum Bescheid", "Antrag Wohngeld"]
    assert subjects(before=date(2025, 9, 5)) == ["Antrag Unterhaltsvorschuss"]
    assert subjects(unseen=True) == ["Antrag Unterhaltsvorschuss", "Rückfrage zum Bescheid"]
    assert subjects(limit=1) == ["Antrag Unterhaltsvorschuss"]
    with pytest.raises(MailFolderError, match="Gibtsnicht"):
        mail.list_messages(folder="Gibtsnicht")


def test_fetch_is_batched_and_does_not_mark_seen(
    dovecot: Dovecot, mail: Mail, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = new_folder()
    raw = raw_mail(tmp_path, "Massenantrag")
    for _ in range(230):
        dovecot.deliver("uvg", folder, raw)
    calls: list[int] = []
    original = IMAPClient.fetch

    def counting_fetch(self: IMAPClient, messages: list[int], data: list[str], modifiers: object = None) -> dict:
        calls.append(len(messages))
        return original(self, messages, data, modifiers)

    monkeypatch.setattr(IMAPClient, "fetch", counting_fetch)
    messages = mail.list_messages(folder=folder)
    assert len(messages) == 230
    assert calls == [100, 100, 30]
    assert all(len(m.attachments) == 1 for m in messages)
    assert len(mail.list_messages(folder=folder, unseen=True)) == 230


def test_save_attachments_with_umlaut_names(dovecot: Dovecot, mail: Mail, tmp_path: Path) -> None:
    folder = new_folder()
    raw = (
        b"From: a@example.de\r\nSubject: Anlagen\r\nMessage-ID: <anlagen@example.de>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nx\r\n'
        b"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment;"
        b" filename*=iso-8859-1''Geb%FChren.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
        b'--B\r\nContent-Type: application/pdf; name="=?UTF-8?Q?../../M=C3=A4rz?= =?ISO-8859-1?Q?_=DC.pdf?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--B--\r\n"
    )
    dovecot.deliver("uvg", folder, raw)
    (message,) = mail.list_messages(folder=folder)
    saved = mail.save_attachments(message, tmp_path / "out")
    assert sorted(Path(p).name for p in saved) == ["Gebühren.pdf", "März Ü.pdf"]
    assert all(Path(p).read_bytes() == b"%PDF-1.4\n" for p in saved)


def _flags(dovecot: Dovecot, folder: str) -> dict[str, tuple[bytes, ...]]:
    """Subject -> flags, read with a separate plain imapclient connection."""
    with dovecot.client() as client:
        client.select_folder(folder, readonly=True)
        data = client.fetch(client.search("ALL"), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    result = {}
    for item in data.values():
        header = email.message_from_bytes(item[b"BODY[HEADER.FIELDS (SUBJECT)]"], policy=email.policy.default)
        result[str(header["subject"])] = item[b"FLAGS"]
    return result


@pytest.mark.parametrize("with_move", [True, False], ids=["MOVE", "COPY+UID-EXPUNGE"])
def test_move_keeps_other_deleted_messages(
    request: pytest.FixtureRequest, tmp_path: Path, with_move: bool
) -> None:
    server: Dovecot = request.getfixturevalue("dovecot" if with_move else "dovecot_without_move")
    folder, target = new_folder(), new_folder()
    dovecot_flags = ("\\Deleted",)
    server.deliver("uvg", folder, raw_mail(tmp_path, "Erster"))
    server.deliver("uvg", folder, raw_mail(tmp_path, "Schon gelöscht markiert"), flags=dovecot_flags)
    server.deliver("uvg", folder, raw_mail(tmp_path, "Dritter"))
    with open_mail(server) as library:
        caps = library.state.backend.client.capabilities()  # type: ignore[union-attr]
        assert (b"MOVE" in caps) is with_move
        first = library.list_messages(folder=folder, subject="Erster")[0]
        library.add_flags(first, "$Bearbeitet")
        library.move_message(first, target, create_folder=True)
        assert [m.subject for m in library.list_messages(folder=target)] == ["Erster"]
        assert [m.subject for m in library.list_messages(folder=folder)] == [
            "Schon gelöscht markiert",
            "Dritter",
        ]
    assert _flags(server, folder)["Schon gelöscht markiert"] == (b"\\Deleted",)
    assert b"$Bearbeitet" in _flags(server, target)["Erster"]
    assert b"\\Deleted" not in _flags(server, target)["Erster"]


def test_flags(dovecot: Dovecot, mail: Mail, tmp_path: Path) -> None:
    folder = new_folder()
    dovecot.deliver("uvg", folder, raw_mail(tmp_path, "Flaggen"))
    (message,) = mail.list_messages(folder=folder)
    mail.add_flags(message, "Seen", "Flagged", "$Bearbeitet")
    assert set(_flags(dovecot, folder)["Flaggen"]) == {b"\\Seen", b"\\Flagged", b"$Bearbeitet"}
    mail.remove_flags(message, "\\Flagged")
    (again,) = mail.list_messages(folder=folder)
    assert set(again.flags) == {"\\Seen", "$Bearbeitet"}
    assert mail.list_messages(folder=folder, unseen=True) == []


def test_find_and_move_by_message_id_in_a_later_run(dovecot: Dovecot, tmp_path: Path) -> None:
    folder, target = new_folder(), new_folder()
    dovecot.deliver("uvg", folder, raw_mail(tmp_path, "Andere"))
    raw = raw_mail(tmp_path, "Gesuchte Mail")
    message_id = build_mail_message(raw, uid=0, folder="").message_id
    assert message_id
    dovecot.deliver("uvg", folder, raw)
    with open_mail(dovecot) as first_run:
        found = first_run.find_message_by_message_id(message_id.strip("<>"), folder=folder)
        assert found.subject == "Gesuchte Mail" and found.uidvalidity
    # a later run: only the Message-ID from the work item, or a stale object from another UIDVALIDITY
    with open_mail(dovecot) as later_run:
        stale = dataclasses.replace(found, uid=9999, uidvalidity=1)
        later_run.add_flags(stale, "$Bearbeitet")
        later_run.move_message(message_id, target, folder=folder, create_folder=True)
        assert [m.subject for m in later_run.list_messages(folder=target)] == ["Gesuchte Mail"]
        with pytest.raises(MessageNotFoundError, match="Message-ID"):
            later_run.find_message_by_message_id(message_id, folder=folder)
    assert dovecot.count("uvg", folder) == 1


def test_send_via_smtp_with_umlaut_attachment_and_copy(
    dovecot: Dovecot, smtp_server: SmtpServer, mail: Mail, tmp_path: Path
) -> None:
    smtp_server.clear()
    folder = new_folder()
    dovecot.deliver("uvg", folder, raw_mail(tmp_path, "Antrag"))
    (incoming,) = mail.list_messages(folder=folder)
    attachment = tmp_path / "Bescheid für Müller.pdf"
    attachment.write_bytes(PDF)
    mail.open_outbox(f"smtp://robot@127.0.0.1:{smtp_server.port}", password="Robot-Passwort-1")
    copy_folder = new_folder()
    message_id = mail.send_message(
        "Stadt Gießen <uvg@giessen.de>",
        [incoming.sender_address],
        f"Re: {incoming.subject} – Bescheid",
        "Sehr geehrte Frau Müller,\nanbei der Bescheid.",
        bcc="akte@giessen.de",
        attachments=[str(attachment)],
        in_reply_to=incoming,
        save_copy_to=copy_folder,
    )
    assert len(smtp_server.messages) == 1
    assert smtp_server.envelopes[0] == ("uvg@giessen.de", ["erika@example.de", "akte@giessen.de"])
    received = build_mail_message(smtp_server.messages[0], uid=0, folder="")
    assert received.message_id == message_id
    assert received.subject == "Re: Antrag – Bescheid"
    assert [a.filename for a in received.attachments] == ["Bescheid für Müller.pdf"]
    assert received.attachment_data(1) == PDF
    assert received.email["In-Reply-To"] == incoming.message_id
    assert "akte@giessen.de" not in smtp_server.messages[0].decode("ascii", "replace")
    (copy,) = mail.list_messages(folder=copy_folder)
    assert copy.message_id == message_id and copy.seen


def test_smtp_wrong_password(smtp_server: SmtpServer, tmp_path: Path) -> None:
    library = Mail()
    library.open_outbox(f"smtp://robot@127.0.0.1:{smtp_server.port}", password="nein-nein")
    with pytest.raises(MailConnectionError) as error:
        library.send_message("uvg@giessen.de", "a@example.de", "x", "y")
    assert "robot@127.0.0.1" in str(error.value) and "nein-nein" not in str(error.value)


def test_mailbox_and_outbox_from_configuration(
    dovecot: Dovecot, smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sections ``postfach`` and ``versand`` of a city's config.yaml, passwords from the environment."""
    smtp_server.clear()
    monkeypatch.setenv("TEST_UVG_POSTFACH_PASSWORT", dovecot.users["uvg"])
    monkeypatch.setenv("TEST_UVG_SMTP_PASSWORT", "Robot-Passwort-1")
    postfach = {"url": dovecot.url(tls="starttls"), "passwort_variable": "TEST_UVG_POSTFACH_PASSWORT",
                "ca_datei": str(dovecot.cert_file), "eingang": "INBOX"}
    versand = {"absender": "uvg@giessen.de", "smtp": f"smtp://127.0.0.1:{smtp_server.port}", "benutzer": "robot",
               "passwort_variable": "TEST_UVG_SMTP_PASSWORT", "gesendet": new_folder()}
    library = Mail()
    library.open_mailbox_from_configuration(postfach)
    assert "INBOX" in library.list_folders()
    copy_folder = library.open_outbox_from_configuration(versand, postfach)
    assert copy_folder == versand["gesendet"]
    message_id = library.send_message(versand["absender"], "erika@example.de", "Eingangsbestätigung", "Text",
                                      save_copy_to=copy_folder)
    assert len(smtp_server.messages) == 1
    assert library.find_message_by_message_id(message_id, folder=copy_folder).seen
    library.close_mailbox()
    monkeypatch.setenv("TEST_UVG_POSTFACH_PASSWORT", "Falsches-Kennwort-9")
    with pytest.raises(MailConnectionError) as error:
        library.open_mailbox_from_configuration(postfach)
    assert "uvg@" in str(error.value) and "Falsches-Kennwort-9" not in str(error.value)
