"""Letters to PDF through one long-lived LibreOffice (unoserver), on the real LibreOffice: one start for many letters,
a restart after LibreOffice died, a hanging conversion given up after its timeout (only that letter fails), a file
LibreOffice cannot read, and the fallback of one LibreOffice per letter."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest
from pypdf import PdfReader
from rathaus.documents import Documents, PdfExportError
from rathaus.documents.office import SERVER_ENV, OfficeServer, office_server, uno_python

pytestmark = pytest.mark.libreoffice

ROOT = Path(__file__).resolve().parents[2]
GIESSEN = ROOT / "resources" / "cities" / "giessen" / "stadt.yaml"
TEMPLATES = ROOT / "processes" / "unterhaltsvorschuss" / "templates"
SOFFICE = shutil.which("soffice")
CASE = {"antragsteller": {"vorname": "Jürgen", "name": "Müller", "strasse": "Frankfurter Straße 12", "plz": "35392",
                          "ort": "Gießen", "email": "juergen.mueller@example.org"},
        "kind": {"vorname": "Lea", "name": "Müller", "geburtsdatum": "03.04.2018"}, "aktenzeichen": "UVG-2026-0042",
        "eingang": "02.11.2026", "fehlende_unterlagen": ["Geburtsurkunde des Kindes"], "frist": "05.12.2026",
        "amt": "jugendamt"}


@pytest.fixture
def server():
    """A long-lived LibreOffice of this test's own (not the process's shared one)."""
    assert SOFFICE and uno_python(SOFFICE), "LibreOffice and python3-uno are installed by make setup"
    office = OfficeServer(SOFFICE, uno_python(SOFFICE))
    yield office
    office.stop()


def _letters(tmp_path: Path, count: int) -> list[Path]:
    docs = Documents(city=GIESSEN)
    return [docs.create_letter(TEMPLATES / "nachforderung.docx", tmp_path / f"brief-{n}.docx",
                               {**CASE, "aktenzeichen": f"UVG-2026-{n:04d}"}) for n in range(count)]


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")  # a zombie is dead
    except FileNotFoundError:
        return True


def _text(pdf: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(pdf).pages)


def test_many_letters_go_through_one_libreoffice(server, tmp_path):
    letters = _letters(tmp_path, 4)
    for letter in letters:
        server.convert(letter, letter.with_suffix(".pdf"), timeout=60)
    assert server.starts == 1
    for number, letter in enumerate(letters):
        text = _text(letter.with_suffix(".pdf"))
        assert "Jürgen Müller" in text and f"UVG-2026-{number:04d}" in text


def test_a_libreoffice_that_died_is_started_again_for_the_next_letter(server, tmp_path):
    first, second = _letters(tmp_path, 2)
    server.convert(first, tmp_path / "a.pdf", timeout=60)
    os.kill(server._office_pid(), signal.SIGKILL)
    server.process.wait(timeout=30)  # unoserver ends with its LibreOffice
    server.convert(second, tmp_path / "b.pdf", timeout=60)
    assert server.starts == 2 and "UVG-2026-0001" in _text(tmp_path / "b.pdf")


def test_a_hanging_conversion_fails_that_letter_only_and_the_next_gets_a_new_libreoffice(server, tmp_path):
    first, second, third = _letters(tmp_path, 3)
    server.convert(first, tmp_path / "a.pdf", timeout=60)
    hung = server._office_pid()
    os.kill(hung, signal.SIGSTOP)  # LibreOffice stops answering, as when it hangs on a document
    started = time.monotonic()
    with pytest.raises(PdfExportError, match=r"'brief-1.docx' nicht in 3 s in PDF umgewandelt und wurde neu gestartet"):
        server.convert(second, tmp_path / "b.pdf", timeout=3)
    assert time.monotonic() - started < 20
    assert _gone(hung)  # the hanging LibreOffice was killed
    server.convert(third, tmp_path / "c.pdf", timeout=60)
    assert server.starts == 2 and "UVG-2026-0002" in _text(tmp_path / "c.pdf")


def test_a_file_libreoffice_cannot_read_fails_with_a_german_message_and_the_next_letter_converts(server, tmp_path):
    [good] = _letters(tmp_path, 1)
    broken = tmp_path / "kaputt.docx"
    broken.write_bytes(b"PK\x03\x04 kein Word-Dokument" * 10)
    with pytest.raises(PdfExportError, match=r"LibreOffice konnte 'kaputt.docx' nicht in PDF umwandeln"):
        server.convert(broken, tmp_path / "kaputt.pdf", timeout=60)
    server.convert(good, tmp_path / "gut.pdf", timeout=60)
    assert server.starts == 1 and not (tmp_path / "kaputt.pdf").exists()


def test_without_the_long_lived_libreoffice_each_letter_starts_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv(SERVER_ENV, "off")
    assert office_server(SOFFICE) is None
    [letter] = _letters(tmp_path, 1)
    pdf = Documents(city=GIESSEN).convert_to_pdf(letter)
    assert "UVG-2026-0000" in _text(pdf)


def test_a_libreoffice_server_that_does_not_start_leaves_the_letters_to_one_libreoffice_each(tmp_path, monkeypatch):
    import rathaus.documents.export as export

    broken = OfficeServer("/bin/false", uno_python(SOFFICE))  # unoserver's LibreOffice exits at once
    monkeypatch.setattr(export, "office_server", lambda soffice: broken)
    first, second = _letters(tmp_path, 2)
    docs = Documents(city=GIESSEN)
    assert "UVG-2026-0000" in _text(docs.convert_to_pdf(first))  # this letter already by a LibreOffice of its own
    assert broken.broken and broken.starts == 1
    assert "UVG-2026-0001" in _text(docs.convert_to_pdf(second))
    assert broken.starts == 1  # not tried again for every letter
