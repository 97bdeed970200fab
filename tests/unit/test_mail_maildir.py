"""The Maildir backend through the Mail library: the embedded default for demos."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rathaus.errors import ApplicationError, BusinessError
from rathaus.mail import Mail
from rathaus.mail.errors import (
    AttachmentTooLargeError,
    MailFolderError,
    MailOperationError,
    MessageNotFoundError,
)
from rathaus.mail.smtp import build_message

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\ntrailer<<>>\n%%EOF\n"


def make_mail(tmp: Path, number: int, *, subject: str, sender: str, day: int = 1, pdf_name: str = "a.pdf") -> bytes:
    file = tmp / f"src{number}" / pdf_name
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(PDF * number)
    message = build_message(sender, ["uvg@giessen.de"], subject, f"Text {number}", attachments=[file])
    del message["Date"]
    message["Date"] = f"Mon, {day:02d} Sep 2025 09:00:00 +0200"
    return message.as_bytes()


@pytest.fixture
def mail(tmp_path: Path) -> Mail:
    library = Mail()
    library.open_mailbox(f"maildir:{tmp_path / 'Maildir'}", create=True)
    raw = [
        make_mail(tmp_path, 1, subject="Antrag Unterhaltsvorschuss", sender="Erika Müller <erika@example.de>", day=1),
        make_mail(tmp_path, 2, subject="Rückfrage Bescheid", sender="max@example.org", day=5, pdf_name="Größe.pdf"),
        make_mail(tmp_path, 3, subject="Antrag Wohngeld", sender="Jörg <joerg@example.de>", day=9),
    ]
    for item in raw:
        library.append_message(item, "INBOX")
    return library


def test_list_and_search(mail: Mail) -> None:
    everything = mail.list_messages()
    assert [m.subject for m in everything] == [
        "Antrag Unterhaltsvorschuss",
        "Rückfrage Bescheid",
        "Antrag Wohngeld",
    ]
    assert [m.subject for m in mail.list_messages(subject="antrag")] == [
        "Antrag Unterhaltsvorschuss",
        "Antrag Wohngeld",
    ]
    assert [m.subject for m in mail.list_messages(subject="Rückfrage")] == ["Rückfrage Bescheid"]
    assert [m.sender_address for m in mail.list_messages(sender="müller")] == ["erika@example.de"]
    assert len(mail.list_messages(since=date(2025, 9, 5))) == 2
    assert len(mail.list_messages(before=date(2025, 9, 5))) == 1
    assert len(mail.list_messages(since=date(2025, 9, 2), before=date(2025, 9, 6))) == 1
    assert len(mail.list_messages(limit=2)) == 2
    assert len(mail.list_messages(unseen=True)) == 3
    assert mail.list_messages()[0].attachments[0].filename == "a.pdf"


def test_listing_does_not_mark_seen(mail: Mail) -> None:
    mail.list_messages()
    assert all(not m.seen for m in mail.list_messages())


def test_flags_and_keywords(mail: Mail, tmp_path: Path) -> None:
    first = mail.list_messages()[0]
    mail.add_flags(first, "Seen", "$Bearbeitet")
    again = mail.find_message_by_message_id(first.message_id)
    assert set(again.flags) == {"\\Seen", "$Bearbeitet"}
    assert (tmp_path / "Maildir" / "dovecot-keywords").read_text() == "0 $Bearbeitet\n"
    assert len(mail.list_messages(unseen=True)) == 2
    mail.remove_flags(again, "\\Seen")
    assert mail.find_message_by_message_id(first.message_id).flags == ("$Bearbeitet",)
    with pytest.raises(MailOperationError, match="löscht keine Mails"):
        mail.add_flags(first, "\\Deleted")


def test_move_by_object_and_by_message_id(mail: Mail, tmp_path: Path) -> None:
    first, second, _ = mail.list_messages()
    mail.add_flags(first, "$Bearbeitet")
    with pytest.raises(MailFolderError, match="Erledigt"):
        mail.move_message(first, "Erledigt")
    mail.move_message(first, "Erledigt", create_folder=True)
    mail.move_message(second.message_id, "Erledigt")
    assert [m.subject for m in mail.list_messages()] == ["Antrag Wohngeld"]
    moved = mail.list_messages(folder="Erledigt")
    assert [m.subject for m in moved] == ["Antrag Unterhaltsvorschuss", "Rückfrage Bescheid"]
    assert moved[0].flags == ("$Bearbeitet",)
    assert moved[0].uid == first.uid  # the Maildir key survives the move
    assert (tmp_path / "Maildir" / ".Erledigt" / "maildirfolder").exists()
    assert mail.list_folders() == ["INBOX", "Erledigt"]
    with pytest.raises(MessageNotFoundError) as error:
        mail.move_message(first.message_id, "Erledigt")
    assert isinstance(error.value, BusinessError)


def test_unicode_folder_names_use_modified_utf7(mail: Mail, tmp_path: Path) -> None:
    mail.create_folder("Rückläufer")
    assert (tmp_path / "Maildir" / ".R&APw-ckl&AOQ-ufer" / "cur").is_dir()
    assert "Rückläufer" in mail.list_folders()


def test_save_attachments_with_size_limit(mail: Mail, tmp_path: Path) -> None:
    first, second, _ = mail.list_messages()
    out = tmp_path / "out"
    saved = mail.save_attachments(second, out)
    assert [Path(p).name for p in saved] == ["Größe.pdf"]
    assert Path(saved[0]).read_bytes() == PDF * 2
    again = mail.save_attachments(second, out)
    assert [Path(p).name for p in again] == ["Größe-2.pdf"]
    with pytest.raises(AttachmentTooLargeError, match=r"Größe\.pdf"):
        mail.save_attachments(second, tmp_path / "limited", max_size=len(PDF))
    assert not (tmp_path / "limited" / "Größe.pdf").exists()
    assert mail.save_attachments(second, tmp_path / "skip", max_size=len(PDF), too_large="skip") == []
    assert len(mail.save_attachments(first, tmp_path / "ok", max_size="1 KiB")) == 1
    assert mail.save_attachments(first, tmp_path / "pattern", pattern="*.docx") == []
    eml = mail.save_message(first, tmp_path / "eml")
    assert Path(eml).name == "Antrag Unterhaltsvorschuss.eml"


def test_maildir_outbox_is_a_file_transport(tmp_path: Path) -> None:
    library = Mail()
    box = tmp_path / "Demo"
    library.open_outbox(f"maildir:{box}#Gesendet")
    attachment = tmp_path / "Bescheid März.pdf"
    attachment.write_bytes(PDF)
    message_id = library.send_message(
        "uvg@giessen.de", "erika@example.de, max@example.org", "Bescheid", "Anbei.", attachments=str(attachment)
    )
    library.open_mailbox(f"maildir:{box}")
    sent = library.find_message_by_message_id(message_id, folder="Gesendet")
    assert sent.to == ("erika@example.de", "max@example.org")
    assert [a.filename for a in sent.attachments] == ["Bescheid März.pdf"]
    library.close_mailbox()


def test_errors_without_mailbox_and_missing_maildir(tmp_path: Path) -> None:
    library = Mail()
    with pytest.raises(Exception, match="Open Mailbox"):
        library.list_messages()
    with pytest.raises(MailFolderError) as error:
        library.open_mailbox(f"maildir:{tmp_path / 'fehlt'}")
    assert isinstance(error.value, ApplicationError)
    library.open_mailbox(str(tmp_path / "neu"), create=True)  # a plain path is a Maildir too
    with pytest.raises(MailFolderError, match="Vorhanden: INBOX"):
        library.list_messages(folder="Archiv")


def test_no_keyword_deletes_mail() -> None:
    assert not [name for name in Mail().get_keyword_names() if "delete" in name.lower()]
