"""Mailbox and outbox from a process configuration, and attachments left out as too large (Maildir based)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rathaus.errors import ApplicationError, BusinessError
from rathaus.mail import Mail, MailConfigurationError
from rathaus.mail.errors import AttachmentTooLargeError, MailConnectionError, MailError
from rathaus.mail.smtp import MaildirOutbox, SmtpOutbox, build_message
from robot.utils import DotDict
from support.smtp import SmtpServer

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\ntrailer<<>>\n%%EOF\n"
SECRET = "Geheim-Passwort-42"


def postfach(tmp_path: Path, **more: str) -> DotDict:
    """A ``postfach`` section as `Load Robot Configuration` returns it (absolute Maildir path)."""
    return DotDict(url=f"maildir:{tmp_path / 'Maildir'}", eingang="INBOX", erledigt="Erledigt", **more)


def mail_with_attachments(tmp_path: Path, *sizes: tuple[str, int]) -> bytes:
    files = []
    for name, size in sizes:
        path = tmp_path / "quelle" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(PDF + b"0" * size)
        files.append(path)
    message = build_message("lieferant@example.de", ["rechnung@fulda.de"], "Rechnung", "Anbei.", attachments=files)
    return message.as_bytes()


# -- Open Mailbox From Configuration ------------------------------------------------------------------


def test_mailbox_from_configuration_creates_the_maildir_and_ignores_folder_keys(tmp_path):
    library = Mail()
    library.open_mailbox_from_configuration(postfach(tmp_path))
    assert (tmp_path / "Maildir" / "cur").is_dir()
    assert library.list_folders() == ["INBOX"]
    library.close_mailbox()


def test_mailbox_from_configuration_can_refuse_to_create(tmp_path):
    with pytest.raises(ApplicationError):
        Mail().open_mailbox_from_configuration(postfach(tmp_path), create=False)
    assert not (tmp_path / "Maildir").exists()


def test_missing_password_variable_fails_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("RATHAUS_TEST_POSTFACH_PASSWORT", raising=False)
    settings = postfach(tmp_path, passwort_variable="RATHAUS_TEST_POSTFACH_PASSWORT")
    with pytest.raises(MailConfigurationError) as error:
        Mail().open_mailbox_from_configuration(settings)
    assert isinstance(error.value, ApplicationError)
    assert error.value.code == "SECRET_MISSING"
    assert "'RATHAUS_TEST_POSTFACH_PASSWORT'" in str(error.value)


def test_password_comes_from_the_environment_and_is_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("RATHAUS_TEST_POSTFACH_PASSWORT", SECRET)
    settings = DotDict(url="imaps://rechnung@127.0.0.1:1", passwort_variable="RATHAUS_TEST_POSTFACH_PASSWORT")
    # nothing listens on port 1: the login is attempted with the secret and the failure does not show it
    with pytest.raises(MailConnectionError) as error:
        Mail().open_mailbox_from_configuration(settings)
    assert "127.0.0.1:1" in str(error.value)
    assert SECRET not in str(error.value)


def test_imap_without_password_variable_fails_as_open_mailbox_does(tmp_path):
    with pytest.raises(MailError, match="fehlt das Passwort"):
        Mail().open_mailbox_from_configuration(DotDict(url="imaps://rechnung@mail.fulda.de:993"))


def test_section_without_url_is_a_configuration_error():
    with pytest.raises(MailConfigurationError, match="'url'") as error:
        Mail().open_mailbox_from_configuration(DotDict(eingang="INBOX"))
    assert error.value.code == "CONFIG_ERROR"


# -- Open Outbox From Configuration --------------------------------------------------------------------


def test_outbox_without_smtp_keeps_mail_in_the_maildir_folder(tmp_path):
    library = Mail()
    settings = DotDict(absender="rechnung@fulda.de", gesendet="Gesendet")
    assert library.open_outbox_from_configuration(settings, postfach(tmp_path)) is None
    message_id = library.send_message(settings.absender, "lieferant@example.de", "Rückweisung", "Text")
    library.open_mailbox_from_configuration(postfach(tmp_path))
    assert library.find_message_by_message_id(message_id, folder="Gesendet").subject == "Rückweisung"


def test_outbox_without_mailbox_section_uses_the_open_maildir(tmp_path):
    library = Mail()
    library.open_mailbox_from_configuration(postfach(tmp_path))
    assert library.open_outbox_from_configuration(DotDict(absender="a@fulda.de", gesendet="Versandt")) is None
    assert isinstance(library.state.outbox, MaildirOutbox)
    assert library.state.outbox.folder == "Versandt"
    assert "Versandt" in library.list_folders()


def test_outbox_for_an_imap_mailbox_needs_smtp():
    with pytest.raises(MailConfigurationError, match=r"versand\.smtp") as error:
        Mail().open_outbox_from_configuration(DotDict(absender="a@fulda.de"), DotDict(url="imaps://u@h:993"))
    assert error.value.code == "CONFIG_ERROR"
    assert isinstance(error.value, ApplicationError)


def test_outbox_over_smtp_logs_in_with_the_secret_and_returns_the_copy_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("RATHAUS_TEST_SMTP_PASSWORT", SECRET)
    with SmtpServer(users={"robot": SECRET}) as server:
        settings = DotDict(absender="rechnung@fulda.de", smtp=server.url, benutzer="robot",
                           passwort_variable="RATHAUS_TEST_SMTP_PASSWORT", gesendet="Gesendet")
        library = Mail()
        assert library.open_outbox_from_configuration(settings, postfach(tmp_path)) == "Gesendet"
        assert "robot@" in repr(library.state.outbox) and SECRET not in repr(library.state.outbox)
        library.send_message(settings.absender, "lieferant@example.de", "Rückweisung", "Text")
        assert len(server.messages) == 1
        monkeypatch.setenv("RATHAUS_TEST_SMTP_PASSWORT", "Falsches-Kennwort-7")
        library.open_outbox_from_configuration(settings, postfach(tmp_path))
        with pytest.raises(MailConnectionError) as error:
            library.send_message(settings.absender, "lieferant@example.de", "Rückweisung", "Text")
        assert "Falsches-Kennwort-7" not in str(error.value)


def test_smtp_starttls_upgrades_a_plain_smtp_address(tmp_path):
    library = Mail()
    settings = DotDict(absender="a@fulda.de", smtp="smtp://mail.fulda.de:587", smtp_starttls=True)
    library.open_outbox_from_configuration(settings, postfach(tmp_path, ca_datei=str(tmp_path / "ca.pem")))
    outbox = library.state.outbox
    assert isinstance(outbox, SmtpOutbox)
    assert outbox.address.url == "smtp+starttls://mail.fulda.de:587"
    library.open_outbox_from_configuration(DotDict(settings, smtp_starttls=False), postfach(tmp_path))
    assert library.state.outbox.address.url == "smtp://mail.fulda.de:587"


def test_outbox_with_missing_password_variable_fails_before_sending(monkeypatch):
    monkeypatch.delenv("RATHAUS_TEST_SMTP_PASSWORT", raising=False)
    settings = DotDict(absender="a@fulda.de", smtp="smtp://127.0.0.1:25",
                       passwort_variable="RATHAUS_TEST_SMTP_PASSWORT")
    with pytest.raises(MailConfigurationError) as error:
        Mail().open_outbox_from_configuration(settings)
    assert error.value.code == "SECRET_MISSING"


# -- skipped attachments ---------------------------------------------------------------------------------


def test_skipped_attachments_are_recorded_per_call(tmp_path):
    library = Mail()
    library.open_mailbox_from_configuration(postfach(tmp_path))
    library.append_message(mail_with_attachments(tmp_path, ("rechnung.xml", 10), ("lieferschein.pdf", 5000),
                                                 ("stundenzettel.pdf", 6000)), "INBOX")
    mail = library.list_messages()[0]
    saved = library.save_attachments(mail, tmp_path / "fall", max_size=1000, too_large="skip")
    assert [Path(path).name for path in saved] == ["rechnung.xml"]
    assert library.get_skipped_attachments() == ["lieferschein.pdf", "stundenzettel.pdf"]
    library.save_attachments(mail, tmp_path / "fall2", max_size="1 MB", too_large="skip")
    assert library.get_skipped_attachments() == []
    with pytest.raises(AttachmentTooLargeError):
        library.save_attachments(mail, tmp_path / "fall3", max_size=1000)
    assert library.get_skipped_attachments() == []


def test_check_skipped_attachments_passes_when_nothing_was_skipped():
    library = Mail()
    library.check_skipped_attachments([], "<a@b>", max_size="25 MB")
    library.check_skipped_attachments(None, "<a@b>")


def test_check_skipped_attachments_hands_the_case_to_a_clerk():
    library = Mail()
    with pytest.raises(AttachmentTooLargeError) as error:
        library.check_skipped_attachments(["lieferschein.pdf"], "<r1@lieferant.de>", max_size="25 MB")
    assert isinstance(error.value, BusinessError)
    assert error.value.code == "MAIL_ATTACHMENT_TOO_LARGE"
    assert str(error.value) == (
        "Mail <r1@lieferant.de>: Der Anhang 'lieferschein.pdf' ist größer als 25 MB und wurde nicht übernommen. "
        "Bitte den Fall von Hand bearbeiten und den Anhang aus der Mail ablegen oder beim Absender kleiner anfordern."
    )
    with pytest.raises(AttachmentTooLargeError) as error:
        library.check_skipped_attachments(["a.pdf", "b.tif"], "<r2@x>", max_size=1000)
    assert "Mail <r2@x>: 2 Anhänge sind größer als 1000 Bytes und wurden nicht übernommen: 'a.pdf', 'b.tif'." in str(
        error.value
    )
    with pytest.raises(AttachmentTooLargeError, match="ist zu groß"):
        library.check_skipped_attachments("scan.pdf", "<r3@x>")
