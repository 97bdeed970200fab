"""Parsing of crafted mails: encoded file names, evil names, nesting, the `rathaus mail show` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rathaus.cli import main
from rathaus.mail.errors import UnreadableMailError
from rathaus.mail.message import build_mail_message, safe_filename, summarize_eml, unique_path
from rathaus.mail.smtp import build_message

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PDF_B64 = b"JVBERi0xLjQKMSAwIG9iajw8Pj5lbmRvYmoKdHJhaWxlcjw8Pj4KJSVFT0YK"


def mail_with_part(headers: bytes, *, payload: bytes = PDF_B64, subject: bytes = b"Antrag") -> bytes:
    """A multipart/mixed mail with a text part and one attachment part with the given MIME headers."""
    return (
        b"From: =?UTF-8?Q?Erika_M=C3=BCller?= <erika@example.de>\r\n"
        b"To: uvg@giessen.de\r\n"
        b"Subject: " + subject + b"\r\n"
        b"Date: Tue, 04 Mar 2025 10:15:00 +0100\r\n"
        b"Message-ID: <abc.123@example.de>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGuten Tag\r\n"
        b"--XX\r\n" + headers + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + payload + b"\r\n"
        b"--XX--\r\n"
    )


def names(raw: bytes) -> list[str]:
    return [a.filename for a in build_mail_message(raw, uid=1, folder="INBOX").attachments]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # RFC 2047, several encoded words in different charsets, the space between them dropped
        (
            b'Content-Type: application/pdf\r\nContent-Disposition: attachment; '
            b'filename="=?UTF-8?Q?Antrag_f=C3=BCr?= =?ISO-8859-1?Q?_M=FCller?=.pdf"',
            "Antrag für Müller.pdf",
        ),
        # RFC 2047 base64 in the name parameter of Content-Type only
        (b'Content-Type: application/pdf; name="=?utf-8?B?w5xiZXJzaWNodC5wZGY=?="', "Übersicht.pdf"),
        # RFC 2231 with latin-1
        (
            b"Content-Type: application/pdf\r\nContent-Disposition: attachment; "
            b"filename*=iso-8859-1''Geb%FChren%20%DCbersicht.pdf",
            "Gebühren Übersicht.pdf",
        ),
        # RFC 2231 continuations, mixed encoded and plain sections
        (
            b"Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
            b" filename*0*=UTF-8''Sch%C3%B6ne%20;\r\n filename*1*=Gr%C3%BC%C3%9Fe;\r\n filename*2=.pdf",
            "Schöne Grüße.pdf",
        ),
        # undeclared latin-1 bytes, as old mail programs send them
        (
            b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="Geb\xfchren.pdf"',
            "Gebühren.pdf",
        ),
        # undeclared UTF-8 bytes
        (
            'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="Größe.pdf"'.encode(),
            "Größe.pdf",
        ),
        # RFC 2047 with latin-1 Q encoding
        (b'Content-Type: application/pdf; name="=?iso-8859-1?Q?Bescheid_M=E4rz.pdf?="', "Bescheid März.pdf"),
    ],
)
def test_encoded_file_names_are_decoded(header: bytes, expected: str) -> None:
    assert names(mail_with_part(header)) == [expected]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ('"../../etc/passwd"', "passwd"),
        ('"..\\\\..\\\\Windows\\\\evil.exe"', "evil.exe"),
        ('"C:\\\\Users\\\\x\\\\antrag.pdf"', "antrag.pdf"),
        ('"C:antrag.pdf"', "antrag.pdf"),
        ('"/absolute/path/bescheid.pdf"', "bescheid.pdf"),
        ('"=?UTF-8?Q?a=09b=0D=1B.pdf?="', "ab.pdf"),
        ('"..."', "anhang-1.pdf"),
        ('"   "', "anhang-1.pdf"),
        ('"CON.pdf"', "_CON.pdf"),
        ('"what?*<>|.pdf"', "what_____.pdf"),
    ],
)
def test_evil_names_become_safe(name: str, expected: str) -> None:
    header = f"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename={name}".encode()
    assert names(mail_with_part(header)) == [expected]


def test_safe_filename_direct() -> None:
    assert safe_filename("..", 3, "application/pdf") == "anhang-3.pdf"
    assert safe_filename(None, 2, "application/octet-stream") == "anhang-2.bin"
    assert safe_filename("Rechnung\u202egpj.exe") == "Rechnunggpj.exe"  # right-to-left override removed
    long = safe_filename("x" * 400 + ".pdf")
    assert long.endswith(".pdf") and len(long) <= 150
    assert safe_filename("Bescheid\x00.pdf") == "Bescheid.pdf"


def test_unique_path_appends_numbers(tmp_path: Path) -> None:
    (tmp_path / "antrag.pdf").write_bytes(b"1")
    (tmp_path / "antrag-2.pdf").write_bytes(b"2")
    assert unique_path(tmp_path, "antrag.pdf").name == "antrag-3.pdf"
    assert unique_path(tmp_path, "neu.pdf").name == "neu.pdf"
    (tmp_path / "README").write_bytes(b"")
    assert unique_path(tmp_path, "README").name == "README-2"


def test_unnamed_pdf_is_an_attachment_and_payload_decodes() -> None:
    raw = mail_with_part(b"Content-Type: application/pdf")
    mail = build_mail_message(raw, uid=7, folder="INBOX")
    assert [a.filename for a in mail.attachments] == ["anhang-1.pdf"]
    assert mail.attachments[0].size == len(PDF)
    assert mail.attachment_data(1) == PDF
    assert mail.body == "Guten Tag"
    assert mail.sender == "Erika Müller <erika@example.de>"
    assert mail.sender_address == "erika@example.de"
    assert mail.message_id == "<abc.123@example.de>"
    assert mail.date is not None and mail.date.isoformat() == "2025-03-04T10:15:00+01:00"


def test_plain_text_mail_has_no_attachments() -> None:
    raw = (
        b"From: a@example.de\r\nSubject: =?UTF-8?Q?R=C3=BCckfrage?= =?UTF-8?Q?_zum_Antrag?=\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Sch=F6ne Gr=FC=DFe\r\n"
    )
    mail = build_mail_message(raw, uid=1, folder="INBOX")
    assert mail.attachments == ()
    assert mail.subject == "Rückfrage zum Antrag"
    assert mail.body == "Schöne Grüße"
    assert mail.date is None and mail.message_id is None


def test_nested_multipart_and_inline_html() -> None:
    raw = (
        b"From: a@example.de\r\nSubject: nested\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="OUT"\r\n\r\n'
        b'--OUT\r\nContent-Type: multipart/alternative; boundary="ALT"\r\n\r\n'
        b"--ALT\r\nContent-Type: text/plain\r\n\r\nText\r\n"
        b'--ALT\r\nContent-Type: multipart/related; boundary="REL"\r\n\r\n'
        b"--REL\r\nContent-Type: text/html\r\n\r\n<p>Text</p>\r\n"
        b"--REL\r\nContent-Type: image/png; name=logo.png\r\nContent-ID: <logo>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--REL--\r\n"
        b"--ALT--\r\n"
        b'--OUT\r\nContent-Type: application/pdf; name="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + PDF_B64
        + b"\r\n--OUT\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=notiz.txt\r\n\r\n"
        b"Notiz\r\n--OUT--\r\n"
    )
    mail = build_mail_message(raw, uid=1, folder="INBOX")
    assert [a.filename for a in mail.attachments] == ["logo.png", "a.pdf", "notiz.txt"]
    assert [a.index for a in mail.attachments] == [1, 2, 3]
    assert mail.attachment_data(3).strip() == b"Notiz"
    assert mail.body == "Text"


def test_attached_message_is_one_attachment() -> None:
    inner = mail_with_part(
        b'Content-Type: application/pdf; name="innen.pdf"', subject=b"=?UTF-8?Q?Urspr=C3=BCnglich?="
    )
    raw = (
        b"From: b@example.de\r\nSubject: Fwd: Antrag\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="FWD"\r\n\r\n'
        b"--FWD\r\nContent-Type: text/plain\r\n\r\nSiehe Anhang\r\n"
        b"--FWD\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--FWD--\r\n"
    )
    mail = build_mail_message(raw, uid=1, folder="INBOX")
    assert [(a.filename, a.content_type) for a in mail.attachments] == [("Ursprünglich.eml", "message/rfc822")]
    attached = build_mail_message(mail.attachment_data(1), uid=0, folder="")
    assert [a.filename for a in attached.attachments] == ["innen.pdf"]


def test_built_message_round_trips_umlaut_attachment(tmp_path: Path) -> None:
    file = tmp_path / "Bescheid Müller – März.pdf"
    file.write_bytes(PDF)
    message = build_message(
        "Stadt Gießen <uvg@giessen.de>", ["erika@example.de"], "Ihr Antrag – Bescheid", "Anbei.",
        attachments=[file], in_reply_to="abc@example.de",
    )
    mail = build_mail_message(message.as_bytes(), uid=1, folder="Gesendet")
    assert [a.filename for a in mail.attachments] == ["Bescheid Müller – März.pdf"]
    assert mail.attachment_data(1) == PDF
    assert mail.subject == "Ihr Antrag – Bescheid"
    assert mail.email["In-Reply-To"] == "<abc@example.de>"
    assert mail.email["References"] == "<abc@example.de>"


def test_repr_hides_raw_bytes() -> None:
    mail = build_mail_message(mail_with_part(b"Content-Type: application/pdf"), uid=1, folder="INBOX")
    assert "JVBER" not in repr(mail) and "raw" not in repr(mail)


# -- summarize_eml and `rathaus mail show` ----------------------------------------------------------


def test_summarize_eml(tmp_path: Path) -> None:
    eml = tmp_path / "antrag.eml"
    eml.write_bytes(
        mail_with_part(b"Content-Type: application/pdf\r\nContent-Disposition: attachment; "
                       b"filename*=iso-8859-1''%C4nderung.pdf")
    )
    summary = summarize_eml(eml)
    assert summary == {
        "subject": "Antrag",
        "from": "Erika Müller <erika@example.de>",
        "date": "2025-03-04T10:15:00+01:00",
        "message_id": "<abc.123@example.de>",
        "attachments": [{"filename": "Änderung.pdf", "content_type": "application/pdf", "size": len(PDF)}],
    }


def test_summarize_eml_errors(tmp_path: Path) -> None:
    with pytest.raises(UnreadableMailError, match="nicht gefunden"):
        summarize_eml(tmp_path / "fehlt.eml")
    with pytest.raises(UnreadableMailError, match="Ordner"):
        summarize_eml(tmp_path)
    pdf = tmp_path / "antrag.pdf"
    pdf.write_bytes(PDF)
    with pytest.raises(UnreadableMailError, match="keine Mail"):
        summarize_eml(pdf)
    text = tmp_path / "notiz.txt"
    text.write_text("Hallo Welt\nZweite Zeile\n", encoding="utf-8")
    with pytest.raises(UnreadableMailError, match="keine Mail"):
        summarize_eml(text)


def test_cli_mail_show_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    eml = tmp_path / "antrag.eml"
    eml.write_bytes(mail_with_part('Content-Type: application/pdf; name="../../böse.pdf"'.encode()))
    assert main(["mail", "show", str(eml), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["subject"] == "Antrag"
    assert data["attachments"] == [{"filename": "böse.pdf", "content_type": "application/pdf", "size": len(PDF)}]


@pytest.mark.parametrize("make", ["missing", "not_mail", "directory"])
def test_cli_mail_show_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], make: str) -> None:
    target = tmp_path / "x.eml"
    if make == "not_mail":
        target.write_bytes(PDF)
    elif make == "directory":
        target.mkdir()
    assert main(["mail", "show", str(target), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and str(target) in lines[0] and lines[0].startswith("rathaus: ")
