"""Documents: UVG letters from the Word templates with Gießen's letterhead, and their PDF versions."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from docx import Document
from rathaus.documents import (
    CityDataError,
    Documents,
    LetterDataMissingError,
    LibreOfficeMissingError,
    TemplateNotFoundError,
    TemplateSyntaxError,
)
from rathaus.errors import ApplicationError, BusinessError

ROOT = Path(__file__).resolve().parents[2]
GIESSEN = ROOT / "resources" / "cities" / "giessen" / "stadt.yaml"
TEMPLATES = ROOT / "processes" / "unterhaltsvorschuss" / "templates"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def fall(**changes):
    data = {
        "antragsteller": {
            "vorname": "Jürgen",
            "name": "Müller",
            "strasse": "Frankfurter Straße 12",
            "plz": "35392",
            "ort": "Gießen",
            "email": "juergen.mueller@example.org",
        },
        "kind": {"vorname": "Lea", "name": "Müller", "geburtsdatum": "03.04.2018"},
        "aktenzeichen": "UVG-2026-0042",
        "eingang": "02.11.2026",
        "fehlende_unterlagen": ["Geburtsurkunde des Kindes", "Nachweis über Unterhaltszahlungen"],
        "frist": "05.12.2026",
        "amt": "jugendamt",
    }
    data.update(changes)
    return data


@pytest.fixture
def docs():
    library = Documents(city=GIESSEN)
    library.state.today = lambda: dt.date(2026, 11, 20)
    return library


def write_template(path: Path, *lines: str, header: str | None = None) -> Path:
    document = Document()
    for line in lines:
        document.add_paragraph(line)
    if header is not None:
        document.sections[0].header.paragraphs[0].text = header
    document.save(str(path))
    return path


def test_eingangsbestaetigung_contains_case_data_and_letterhead(docs, tmp_path):
    letter = docs.create_letter(TEMPLATES / "eingangsbestaetigung.docx", tmp_path / "brief.docx", fall())
    text = docs.get_letter_text(letter)
    for expected in (
        "Jürgen Müller",
        "Frankfurter Straße 12",
        "35392 Gießen",
        "für Ihr Kind Lea Müller, geboren am 03.04.2018, ist am 02.11.2026 bei uns eingegangen",
        "UVG-2026-0042",
        "Datum: 20.11.2026",
        "Unterhaltsvorschussgesetz (UVG)",
        "Telefon: 0641 306-2345",
        "Sprechzeiten: Mo, Di, Do 8:30–12:00 Uhr; Do 14:00–17:30 Uhr",
        "Mit freundlichen Grüßen",
        "Ihr Jugendamt – Unterhaltsvorschussstelle",
    ):
        assert expected in text
    lines = text.splitlines()
    assert lines[0] == "Universitätsstadt Gießen"
    assert "Universitätsstadt Gießen · Berliner Platz 1 · 35390 Gießen" in lines
    assert lines[-1] == (
        "Universitätsstadt Gießen · Berliner Platz 1 · 35390 Gießen · Telefon 0641 306-0 · www.giessen.de"
    )
    assert "{{" not in text and "{%" not in text


def test_nachforderung_lists_missing_documents_and_deadline(docs, tmp_path):
    data = fall(fehlende_unterlagen=["Geburtsurkunde des Kindes", "Bescheid über Waisenrente", "Mietvertrag"])
    letter = docs.create_letter(TEMPLATES / "nachforderung.docx", tmp_path / "n.docx", data)
    lines = docs.get_letter_text(letter).splitlines()
    start = lines.index("Damit wir über Ihren Antrag entscheiden können, benötigen wir von Ihnen noch:")
    assert lines[start + 1 : start + 4] == ["Geburtsurkunde des Kindes", "Bescheid über Waisenrente", "Mietvertrag"]
    text = "\n".join(lines)
    assert "bis zum 05.12.2026" in text
    assert "Aktenzeichen: UVG-2026-0042" in text
    assert "das Aktenzeichen UVG-2026-0042 an" in text
    assert "Guten Tag Jürgen Müller," in text
    assert "{%" not in text


def test_nachforderung_without_aktenzeichen_refers_to_the_application_date(docs, tmp_path):
    letter = docs.create_letter(TEMPLATES / "nachforderung.docx", tmp_path / "n.docx", fall(aktenzeichen=None))
    text = docs.get_letter_text(letter)
    assert "Aktenzeichen" not in text
    assert "Ihr Antrag vom 02.11.2026" in text
    assert "Datum Ihres Antrags vom 02.11.2026" in text


def test_nachforderung_without_aktenzeichen_key_also_works(docs, tmp_path):
    data = fall()
    del data["aktenzeichen"]
    letter = docs.create_letter(TEMPLATES / "nachforderung.docx", tmp_path / "n.docx", data)
    assert "Ihr Antrag vom 02.11.2026" in docs.get_letter_text(letter)


def test_special_characters_are_escaped_for_word(docs, tmp_path):
    data = fall(fehlende_unterlagen=["Nachweis <Unterhalt> & Waisenrente"])
    letter = docs.create_letter(TEMPLATES / "nachforderung.docx", tmp_path / "n.docx", data)
    assert "Nachweis <Unterhalt> & Waisenrente" in docs.get_letter_text(letter)


def test_missing_variable_names_template_and_placeholder(docs, tmp_path):
    data = fall()
    del data["kind"]["geburtsdatum"]
    with pytest.raises(LetterDataMissingError) as caught:
        docs.create_letter(TEMPLATES / "eingangsbestaetigung.docx", tmp_path / "b.docx", data)
    message = str(caught.value)
    assert "eingangsbestaetigung.docx" in message
    assert "'kind.geburtsdatum'" in message
    assert "\n" not in message
    assert isinstance(caught.value, BusinessError)
    assert not (tmp_path / "b.docx").exists()


def test_missing_top_level_variable_is_named(docs, tmp_path):
    data = fall()
    del data["frist"]
    with pytest.raises(LetterDataMissingError, match="'frist'"):
        docs.create_letter(TEMPLATES / "nachforderung.docx", tmp_path / "n.docx", data)


def test_none_value_is_not_printed(docs, tmp_path):
    with pytest.raises(LetterDataMissingError, match="aktenzeichen"):
        docs.create_letter(
            TEMPLATES / "eingangsbestaetigung.docx", tmp_path / "b.docx", fall(aktenzeichen=None)
        )


def test_letterhead_placeholder_missing_in_city_data(tmp_path):
    library = Documents(city={"name": "Stadt ohne Briefkopf", "aemter": {"jugendamt": {"name": "J"}}})
    template = write_template(tmp_path / "t.docx", "Hallo", header="{{ stadt.briefkopf.absenderzeile }}")
    with pytest.raises(LetterDataMissingError, match=r"'stadt\.briefkopf'"):
        library.create_letter(template, tmp_path / "o.docx", {"amt": "jugendamt"})


def test_context_has_fall_stadt_heute_and_amt_argument(docs, tmp_path):
    template = write_template(
        tmp_path / "t.docx",
        "{{ fall.kind.vorname }}|{{ kind.vorname }}|{{ stadt.kurzname }}|{{ heute }}|{{ amt.email }}",
        "{{ geburtstag }}",
    )
    data = {"kind": {"vorname": "Ömer"}, "geburtstag": dt.date(2019, 2, 1)}
    letter = docs.create_letter(template, tmp_path / "o.docx", data, amt="jugendamt")
    assert docs.get_letter_text(letter).splitlines() == ["Ömer|Ömer|Gießen|20.11.2026|uvg@giessen.de", "01.02.2019"]


def test_city_as_dictionary_overrides_library_default(docs, tmp_path):
    template = write_template(tmp_path / "t.docx", "{{ stadt.name }}")
    letter = docs.create_letter(template, tmp_path / "o.docx", {}, city={"name": "Stadt Wetzlar"})
    assert docs.get_letter_text(letter) == "Stadt Wetzlar"


def test_unknown_department_lists_known_ones(docs, tmp_path):
    with pytest.raises(CityDataError, match=r"'ordnungsamt'.*jugendamt"):
        docs.create_letter(TEMPLATES / "eingangsbestaetigung.docx", tmp_path / "b.docx", fall(amt="ordnungsamt"))


def test_missing_city_file_is_an_application_error(tmp_path):
    library = Documents(city=tmp_path / "fehlt.yaml")
    with pytest.raises(CityDataError) as caught:
        library.create_letter(TEMPLATES / "eingangsbestaetigung.docx", tmp_path / "b.docx", fall())
    assert isinstance(caught.value, ApplicationError)
    assert "fehlt.yaml" in str(caught.value)


def test_missing_template(docs, tmp_path):
    with pytest.raises(TemplateNotFoundError, match=r"gibt-es-nicht\.docx"):
        docs.create_letter(tmp_path / "gibt-es-nicht.docx", tmp_path / "b.docx", fall())


def test_template_that_is_no_word_file(docs, tmp_path):
    broken = tmp_path / "kaputt.docx"
    broken.write_text("kein zip", encoding="utf-8")
    with pytest.raises(TemplateNotFoundError, match="kein lesbares Word-Dokument"):
        docs.create_letter(broken, tmp_path / "b.docx", fall())


def test_broken_placeholder_is_a_template_error(docs, tmp_path):
    template = write_template(tmp_path / "t.docx", "{{ antragsteller.name ")
    with pytest.raises(TemplateSyntaxError, match=r"t\.docx"):
        docs.create_letter(template, tmp_path / "o.docx", fall())


def test_templates_keep_each_jinja_tag_in_one_run():
    for name in ("eingangsbestaetigung.docx", "nachforderung.docx"):
        document = Document(str(TEMPLATES / name))
        paragraphs = list(document.paragraphs)
        for table in document.tables:
            paragraphs += [p for cell in table._cells for p in cell.paragraphs]
        for section in document.sections:
            paragraphs += section.header.paragraphs + section.footer.paragraphs
        for paragraph in paragraphs:
            for run in paragraph.runs:
                for opening, closing in (("{{", "}}"), ("{%", "%}")):
                    assert run.text.count(opening) == run.text.count(closing), (name, run.text)


def test_build_templates_recreates_identical_text(tmp_path, docs):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_templates", TEMPLATES / "build_templates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.main(tmp_path)
    assert [p.name for p in written] == ["eingangsbestaetigung.docx", "nachforderung.docx"]
    for path in written:
        assert docs.get_letter_text(path) == docs.get_letter_text(TEMPLATES / path.name)


def test_missing_libreoffice_says_what_to_install(docs, tmp_path):
    letter = docs.create_letter(TEMPLATES / "eingangsbestaetigung.docx", tmp_path / "b.docx", fall())
    with pytest.raises(LibreOfficeMissingError) as caught:
        docs.convert_to_pdf(letter, soffice=tmp_path / "bin" / "soffice")
    message = str(caught.value)
    assert "libreoffice-writer" in message
    assert str(letter) in message
    assert isinstance(caught.value, ApplicationError)
    assert letter.exists()
    assert docs.is_pdf_export_available(soffice=tmp_path / "bin" / "soffice") is False


@pytest.mark.libreoffice
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_convert_to_pdf_contains_the_addressee(docs, tmp_path):
    from pypdf import PdfReader

    letter = docs.create_letter(TEMPLATES / "nachforderung.docx", tmp_path / "brief.docx", fall())
    assert docs.is_pdf_export_available()
    pdf = docs.convert_to_pdf(letter, tmp_path / "pdf" / "nachforderung-mueller.pdf")
    assert pdf == tmp_path / "pdf" / "nachforderung-mueller.pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Jürgen Müller" in text
    assert "Universitätsstadt Gießen" in text
    assert "Geburtsurkunde des Kindes" in text


@pytest.mark.libreoffice
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_convert_to_pdf_default_output_beside_the_letter(docs, tmp_path):
    letter = docs.create_letter(TEMPLATES / "eingangsbestaetigung.docx", tmp_path / "b.docx", fall())
    assert docs.convert_to_pdf(letter) == tmp_path / "b.pdf"
    assert (tmp_path / "b.pdf").read_bytes().startswith(b"%PDF")
