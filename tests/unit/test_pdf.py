"""rathaus.PDF and its seam rathaus.pdf.reader, on real PDFs built with rathaus_sandbox.pdfforms."""

from __future__ import annotations

import json
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject
from rathaus import PDF
from rathaus.cli import main as cli_main
from rathaus.pdf import reader
from rathaus.pdf.errors import (
    InvalidFieldValueError,
    NotAPdfError,
    PageOutOfRangeError,
    PdfBrokenError,
    PdfEncryptedError,
    PdfError,
    PdfNotFoundError,
    UnknownFieldError,
)
from rathaus.pdf.reader import (
    fill_form,
    list_embedded_files,
    page_count,
    parse_page_spec,
    read_fields,
    read_metadata,
    read_text,
    safe_file_name,
    save_embedded_files,
)
from rathaus_sandbox.pdfforms import (
    FieldSpec,
    attach_files,
    build_form,
    encrypt_copy,
    truncate_copy,
)
from unterhaltsvorschuss.samples.generate import EXAMPLE as UNTERHALTSVORSCHUSS_SAMPLE
from unterhaltsvorschuss.samples.generate import FORM as UNTERHALTSVORSCHUSS_FIELDS

FIELDS = (
    FieldSpec("kind.name", "Name des Kindes"),
    FieldSpec("kind.vorname", "Vorname"),
    FieldSpec("kind.geschlecht", "Geschlecht", "radio", ("w", "m", "d")),
    FieldSpec("antragsteller.ort", "Wohnort"),
    FieldSpec("antragsteller.familienstand", "Familienstand", "choice", ("ledig", "verheiratet", "geschieden")),
    FieldSpec("anlagen.geburtsurkunde", "Geburtsurkunde liegt bei", "checkbox"),
    FieldSpec("anlagen.unterhaltstitel", "Unterhaltstitel liegt bei", "checkbox"),
    FieldSpec("erklaerung.ort", "Ort"),
)
VALUES = {
    "kind.name": "Müller",
    "kind.vorname": "Jürgen",
    "kind.geschlecht": "m",
    "antragsteller.ort": "Gießen, Frankfurter Straße 5",
    "antragsteller.familienstand": "geschieden",
    "anlagen.geburtsurkunde": True,
    "anlagen.unterhaltstitel": False,
    "erklaerung.ort": None,
}


@pytest.fixture
def form(tmp_path: Path) -> Path:
    return build_form(tmp_path / "antrag.pdf", "Antrag auf Unterhaltsvorschuss", FIELDS, VALUES)


@pytest.fixture
def empty_form(tmp_path: Path) -> Path:
    return build_form(tmp_path / "leer.pdf", "Antrag auf Unterhaltsvorschuss", FIELDS)


@pytest.fixture
def long_pdf(tmp_path: Path) -> Path:
    return build_form(tmp_path / "merkblatt.pdf", "Merkblatt", FIELDS[:2], extra_pages=9)


def _slow_path(path: Path) -> dict:
    """The same fields through pypdf only, bypassing the fast reader."""
    data = path.read_bytes()
    return reader._collect_fields(reader._open_pypdf(path, data).root_object)


# --------------------------------------------------------------------------- fields


def test_fields_of_every_kind_with_umlauts(form: Path) -> None:
    fields = read_fields(form)
    assert fields == VALUES
    assert list(fields) == [spec.name for spec in FIELDS]  # document order, qualified names


def test_empty_form_gives_none_and_false(empty_form: Path) -> None:
    assert read_fields(empty_form) == {
        "kind.name": None,
        "kind.vorname": None,
        "kind.geschlecht": None,
        "antragsteller.ort": None,
        "antragsteller.familienstand": None,
        "anlagen.geburtsurkunde": False,
        "anlagen.unterhaltstitel": False,
        "erklaerung.ort": None,
    }


def test_field_hierarchy_is_real(form: Path) -> None:
    top = PdfReader(form).trailer["/Root"]["/AcroForm"]["/Fields"]
    names = [str(ref.get_object()["/T"]) for ref in top]
    assert names == ["kind", "antragsteller", "anlagen", "erklaerung"]
    assert all("." not in str(kid.get_object()["/T"]) for ref in top for kid in ref.get_object()["/Kids"])


def test_fast_and_pypdf_paths_agree(tmp_path: Path) -> None:
    full = build_form(tmp_path / "uv.pdf", "Antrag", UNTERHALTSVORSCHUSS_FIELDS, UNTERHALTSVORSCHUSS_SAMPLE)
    assert read_fields(full) == _slow_path(full) == UNTERHALTSVORSCHUSS_SAMPLE


def _rewrite(src: Path, dst: Path, change) -> Path:
    writer = PdfWriter(clone_from=PdfReader(src))
    change(writer)
    buffer = BytesIO()
    writer.write(buffer)
    dst.write_bytes(buffer.getvalue())
    return dst


def _field(writer: PdfWriter, qualified: str):
    parent, kid = qualified.split(".")
    for ref in writer.root_object["/AcroForm"]["/Fields"]:
        node = ref.get_object()
        if node["/T"] == parent:
            for kid_ref in node["/Kids"]:
                if kid_ref.get_object()["/T"] == kid:
                    return kid_ref.get_object()
    raise KeyError(qualified)


def test_utf16_text_and_latin1_escaped_names(form: Path, tmp_path: Path) -> None:
    def change(writer: PdfWriter) -> None:
        # characters outside PDFDocEncoding force a UTF-16BE string
        _field(writer, "kind.name")[NameObject("/V")] = TextStringObject("Müller–Łukasz")
        radio = _field(writer, "kind.geschlecht")
        radio[NameObject("/V")] = NameObject("/m")

    out = _rewrite(form, tmp_path / "utf16.pdf", change)
    raw = out.read_bytes().replace(b"/V /m", b"/V /m#fcnn")  # Latin-1 escaped name: /münn
    out.write_bytes(raw)
    fields = read_fields(out)
    assert fields["kind.name"] == "Müller–Łukasz"
    assert fields["kind.geschlecht"] == "münn"
    assert _slow_path(out)["kind.geschlecht"] == "münn"


def test_utf8_escaped_radio_name(tmp_path: Path) -> None:
    specs = (FieldSpec("wahl.art", "Art", "radio", ("schriftlich", "persönlich")),)
    path = build_form(tmp_path / "r.pdf", "Wahl", specs, {"wahl.art": "persönlich"})
    assert read_fields(path) == {"wahl.art": "persönlich"}
    assert _slow_path(path) == {"wahl.art": "persönlich"}


def test_pdf_without_form_has_no_fields(long_pdf: Path, tmp_path: Path) -> None:
    flat = fill_form(long_pdf, {}, tmp_path / "flach.pdf", flatten=True)
    assert read_fields(flat) == {}


# --------------------------------------------------------------------------- keywords


def test_keyword_get_form_field_value_with_assertions(form: Path) -> None:
    pdf = PDF()
    assert pdf.get_form_fields(str(form)) == VALUES
    assert pdf.get_form_field_value(str(form), "kind.name") == "Müller"
    assert pdf.get_form_field_value(str(form), "kind.name", "==", "Müller") == "Müller"
    pdf.get_form_field_value(str(form), "anlagen.geburtsurkunde", "==", "True")
    pdf.get_form_field_value(str(form), "anlagen.unterhaltstitel", "==", "nein")
    pdf.get_form_field_value(str(form), "erklaerung.ort", "==", "")
    pdf.get_form_field_value(str(form), "antragsteller.ort", "contains", "Straße")
    pdf.get_form_field_value(str(form), "antragsteller.ort", "matches", r"^Gie")
    with pytest.raises(AssertionError, match=r"kind\.name.*Müller"):
        pdf.get_form_field_value(str(form), "kind.name", "==", "Meier")
    with pytest.raises(AssertionError, match="eigene Meldung"):
        pdf.get_form_field_value(str(form), "kind.name", "!=", "Müller", "eigene Meldung")
    with pytest.raises(ValueError, match="Unbekannter Vergleich"):
        pdf.get_form_field_value(str(form), "kind.name", "~", "x")


def test_unknown_field_names_the_field_and_the_allowed_ones(form: Path) -> None:
    with pytest.raises(UnknownFieldError) as caught:
        PDF().get_form_field_value(str(form), "kind.nachname")
    message = str(caught.value)
    assert "'kind.nachname'" in message and "kind.name" in message and "antrag.pdf" in message


def test_unknown_field_list_is_shortened(tmp_path: Path) -> None:
    path = build_form(tmp_path / "uv.pdf", "Antrag", UNTERHALTSVORSCHUSS_FIELDS)
    with pytest.raises(UnknownFieldError, match=r"… \(und 17 weitere\)"):
        fill_form(path, {"gibt.es.nicht": "x"}, tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()


def test_library_keywords_are_documented() -> None:
    pdf = PDF()
    names = pdf.get_keyword_names()
    assert set(names) >= {
        "get_form_fields", "get_form_field_value", "fill_form", "get_text_from_page", "get_text_from_pages",
        "get_page_count", "get_embedded_files", "save_embedded_files", "get_metadata",
    }
    for name in names:
        doc = pdf.get_keyword_documentation(name)
        assert "=Arguments=" in doc and "Example:" in doc and "`" in doc, name


# --------------------------------------------------------------------------- text


def test_text_of_selected_pages_only(long_pdf: Path) -> None:
    texts = read_text(long_pdf, [3, 5])
    assert list(texts) == [3, 5]
    assert "Erläuterungen, Seite 3" in texts[3]
    assert "Seite 5" in texts[5] and "Seite 3" not in texts[5]
    assert "Name des Kindes" in read_text(long_pdf, [1])[1]
    assert page_count(long_pdf) == 10
    assert len(read_text(long_pdf)) == 10


def test_text_keywords(long_pdf: Path) -> None:
    pdf = PDF()
    assert "Seite 2" in pdf.get_text_from_page(str(long_pdf), 2)
    assert list(pdf.get_text_from_pages(str(long_pdf), "1,3-5")) == [1, 3, 4, 5]
    assert list(pdf.get_text_from_pages(str(long_pdf), [7, 2])) == [2, 7]
    assert pdf.get_page_count(str(long_pdf)) == 10


def test_page_out_of_range(long_pdf: Path) -> None:
    with pytest.raises(PageOutOfRangeError, match=r"'merkblatt.pdf' hat 10 Seite\(n\), Seite 11"):
        read_text(long_pdf, [2, 11])
    with pytest.raises(PageOutOfRangeError):
        read_text(long_pdf, [0])


def test_parse_page_spec() -> None:
    assert parse_page_spec("1,3-5") == [1, 3, 4, 5]
    assert parse_page_spec(["2", 1]) == [1, 2]
    assert parse_page_spec(4) == [4]
    assert parse_page_spec(None) is None
    for bad in ("", "a", "5-3", "0"):
        with pytest.raises(ValueError):
            parse_page_spec(bad)


# --------------------------------------------------------------------------- fill and flatten


def test_fill_round_trip_with_umlauts(empty_form: Path, tmp_path: Path) -> None:
    out = fill_form(empty_form, VALUES, tmp_path / "ausgefuellt.pdf")
    assert read_fields(out) == VALUES
    assert _slow_path(out) == VALUES
    assert read_fields(empty_form)["kind.name"] is None  # the template is unchanged


def test_fill_accepts_words_for_checkboxes_and_clears(form: Path, tmp_path: Path) -> None:
    out = fill_form(
        form,
        {"anlagen.geburtsurkunde": "nein", "anlagen.unterhaltstitel": "ja", "kind.name": None,
         "kind.geschlecht": None, "antragsteller.familienstand": None},
        tmp_path / "neu.pdf",
    )
    fields = read_fields(out)
    assert fields["anlagen.geburtsurkunde"] is False
    assert fields["anlagen.unterhaltstitel"] is True
    assert fields["kind.name"] is None
    assert fields["kind.geschlecht"] is None
    assert fields["antragsteller.familienstand"] is None
    assert fields["kind.vorname"] == "Jürgen"


def test_fill_rejects_options_the_field_does_not_offer(form: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidFieldValueError, match=r"'kind.geschlecht'.*'x'.*Erlaubt: w, m, d"):
        fill_form(form, {"kind.geschlecht": "x"}, tmp_path / "x.pdf")
    with pytest.raises(InvalidFieldValueError, match="ledig"):
        fill_form(form, {"antragsteller.familienstand": "kompliziert"}, tmp_path / "x.pdf")
    with pytest.raises(InvalidFieldValueError):
        fill_form(form, {"anlagen.geburtsurkunde": "vielleicht"}, tmp_path / "x.pdf")


def test_flatten_puts_values_into_the_page_text(empty_form: Path, tmp_path: Path) -> None:
    out = PDF().fill_form(str(empty_form), VALUES, str(tmp_path / "flach.pdf"), flatten=True)
    assert read_fields(out) == {}
    text = read_text(out, [1])[1]
    for value in ("Müller", "Jürgen", "Gießen, Frankfurter Straße 5", "geschieden"):
        assert value in text


def test_fill_can_overwrite_its_source(form: Path) -> None:
    fill_form(form, {"kind.name": "Schäfer"}, form)
    assert read_fields(form)["kind.name"] == "Schäfer"


# --------------------------------------------------------------------------- embedded files, metadata


def test_embedded_files_are_saved_under_safe_names(form: Path, tmp_path: Path) -> None:
    pdf_path = attach_files(
        form,
        tmp_path / "mit_anlagen.pdf",
        {"../../etc/passwd": b"root:x:0:0", "Geburtsurkunde Jürgen.pdf": b"%PDF-1.4 demo", "a:b?.txt": b"x"},
    )
    listed = list_embedded_files(pdf_path)
    assert [item["name"] for item in listed] == ["../../etc/passwd", "Geburtsurkunde Jürgen.pdf", "a:b?.txt"]
    assert [item["file_name"] for item in listed] == ["passwd", "Geburtsurkunde Jürgen.pdf", "a_b_.txt"]
    assert listed[0]["size"] == 10
    target = tmp_path / "anlagen"
    written = PDF().save_embedded_files(str(pdf_path), str(target))
    assert sorted(Path(p).name for p in written) == sorted(["passwd", "Geburtsurkunde Jürgen.pdf", "a_b_.txt"])
    assert all(Path(p).parent == target.resolve() for p in written)
    assert (target / "passwd").read_bytes() == b"root:x:0:0"
    assert not (tmp_path / "etc").exists()


def test_pdf_without_embedded_files(form: Path, tmp_path: Path) -> None:
    assert PDF().get_embedded_files(str(form)) == []
    assert save_embedded_files(form, tmp_path / "leer") == []


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\brief.pdf", "brief.pdf"),
        ("..", "anhang"),
        ("", "anhang"),
        ("CON.txt", "_CON.txt"),
        ("nul", "_nul"),
        (".versteckt", "versteckt"),
        ("a\x00b\nc.xml", "a_b_c.xml"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
    ],
)
def test_safe_file_name(name: str, safe: str) -> None:
    assert safe_file_name(name) == safe


def test_metadata(form: Path) -> None:
    meta = PDF().get_metadata(str(form))
    assert meta["title"] == "Antrag auf Unterhaltsvorschuss"
    assert meta["author"] == "rathaus sandbox"
    assert meta["pages"] == 1
    assert meta["created"] and meta["created"][:2] == "20"
    assert set(meta) == {"title", "author", "subject", "keywords", "creator", "producer", "created",
                         "modified", "pages"}
    assert read_metadata(form) == meta


# --------------------------------------------------------------------------- unreadable files


@pytest.fixture
def bad_files(form: Path, tmp_path: Path) -> dict[str, Path]:
    text = tmp_path / "brief.pdf"
    text.write_text("Sehr geehrte Damen und Herren,\nanbei mein Antrag.\n", encoding="utf-8")
    empty = tmp_path / "leer.pdf"
    empty.write_bytes(b"")
    garbage = tmp_path / "kaputt.pdf"
    garbage.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n")
    return {
        "truncated": truncate_copy(form, tmp_path / "abgeschnitten.pdf"),
        "encrypted": encrypt_copy(form, tmp_path / "geschuetzt.pdf", "geheim"),
        "text": text,
        "empty": empty,
        "garbage": garbage,
        "missing": tmp_path / "fehlt.pdf",
    }


ERRORS = {
    "truncated": (PdfBrokenError, "beschädigt oder abgeschnitten"),
    "encrypted": (PdfEncryptedError, "Kennwort"),
    "text": (NotAPdfError, "keine PDF-Datei"),
    "empty": (PdfBrokenError, "leere Datei"),
    "garbage": (PdfBrokenError, "beschädigt"),
    "missing": (PdfNotFoundError, "nicht gefunden"),
}
OPERATIONS = {
    "fields": read_fields,
    "text": lambda p: read_text(p, [1]),
    "metadata": read_metadata,
    "pages": page_count,
    "attachments": list_embedded_files,
}


@pytest.mark.parametrize("kind", list(ERRORS))
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_unreadable_files_raise_their_own_error(
    bad_files: dict[str, Path], kind: str, operation: str, caplog: pytest.LogCaptureFixture
) -> None:
    error, words = ERRORS[kind]
    path = bad_files[kind]
    with pytest.raises(error) as caught:
        OPERATIONS[operation](path)
    message = str(caught.value)
    assert words in message
    assert f"'{path.name}'" in message
    assert "\n" not in message
    assert isinstance(caught.value, PdfError)
    assert caught.value.code.startswith("PDF_") or caught.value.code == "NOT_A_PDF"
    assert not [r for r in caplog.records if r.levelno >= 30 and r.name.startswith("pypdf")]


def test_encrypted_pdf_without_user_password_is_readable(form: Path, tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(form))
    writer.encrypt(user_password="", owner_password="amt", algorithm="AES-256")
    out = tmp_path / "nur_rechte.pdf"
    with out.open("wb") as handle:
        writer.write(handle)
    assert read_fields(out) == VALUES
    assert "Name des Kindes" in read_text(out, [1])[1]


# --------------------------------------------------------------------------- command line


def test_cli_fields_json(form: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["pdf", "fields", str(form), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == VALUES
    assert err == ""


def test_cli_fields_plain(form: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["pdf", "fields", str(form)]) == 0
    out = capsys.readouterr().out
    assert "kind.name: Müller\n" in out
    assert "erklaerung.ort: \n" in out


def test_cli_text_pages(long_pdf: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["pdf", "text", str(long_pdf), "--pages", "1,3-5", "--json"]) == 0
    texts = json.loads(capsys.readouterr().out)
    assert list(texts) == ["1", "3", "4", "5"]
    assert "Seite 4" in texts["4"]


@pytest.mark.parametrize("kind", ["truncated", "encrypted", "text", "missing"])
def test_cli_bad_file_exits_2_with_one_line(bad_files: dict[str, Path], kind: str) -> None:
    exe = Path(sys.executable).parent / "rathaus"
    result = subprocess.run(
        [str(exe), "pdf", "fields", str(bad_files[kind]), "--json"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rathaus: Die Datei '")
    assert bad_files[kind].name in lines[0]


def test_cli_page_out_of_range(long_pdf: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["pdf", "text", str(long_pdf), "--pages", "12"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Seite 12" in err


# --------------------------------------------------------------------------- fast reader edge cases


def _objstm_pdf(path: Path, field: bytes) -> Path:
    """A PDF whose objects sit in a compressed-object stream with a cross-reference stream (PDF 1.5)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [ 4 0 R ] >> >>",
        b"<< /Type /Pages /Kids [ 3 0 R ] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [ 0 0 200 200 ] /Annots [ 4 0 R ] >>",
        field,
    ]
    body, header = b"", []
    for number, obj in enumerate(objects, start=1):
        header.append(f"{number} {len(body)}".encode())
        body += obj + b"\n"
    head = b" ".join(header) + b"\n"
    stream = head + body
    out = b"%PDF-1.5\n"
    offset5 = len(out)
    out += (f"5 0 obj\n<< /Type /ObjStm /N 4 /First {len(head)} /Length {len(stream)} >>\nstream\n".encode()
            + stream + b"\nendstream\nendobj\n")
    offset6 = len(out)
    rows = [bytes([0, 0, 0, 255])] + [bytes([2, 0, 5, i]) for i in range(4)]
    rows += [bytes([1, offset5 >> 8, offset5 & 255, 0]), bytes([1, offset6 >> 8, offset6 & 255, 0])]
    xref = b"".join(rows)
    out += (f"6 0 obj\n<< /Type /XRef /Size 7 /W [ 1 2 1 ] /Root 1 0 R /Length {len(xref)} >>\nstream\n".encode()
            + xref + b"\nendstream\nendobj\n" + f"startxref\n{offset6}\n%%EOF\n".encode())
    path.write_bytes(out)
    return path


def test_fields_in_object_streams_use_the_fast_reader(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    field = (b"<< /FT /Tx /T (name) % a comment\n /V (M\\374ller \\(Gie\\337en\\)) /Subtype /Widget "
             b"/Rect [ 0 0 10 10 ] /MK << /BG [ 1 1 1 ] >> >>")
    path = _objstm_pdf(tmp_path / "objstm.pdf", field)
    with caplog.at_level("DEBUG", logger="rathaus.pdf.reader"):
        assert read_fields(path) == {"name": "Müller (Gießen)"}
    assert not [r for r in caplog.records if "gave up" in r.getMessage()]
    assert _slow_path(path) == {"name": "Müller (Gießen)"}


def test_unusual_syntax_falls_back_to_pypdf(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # a string nested two levels deep is beyond the fast reader's grammar
    field = b"<< /FT /Tx /T (name) /V (a (b (c)) d) /Subtype /Widget /Rect [ 0 0 10 10 ] >>"
    path = _objstm_pdf(tmp_path / "nested.pdf", field)
    with caplog.at_level("DEBUG", logger="rathaus.pdf.reader"):
        assert read_fields(path) == {"name": "a (b (c)) d"}
    assert [r for r in caplog.records if "gave up" in r.getMessage()]


def test_hex_strings_and_names(tmp_path: Path) -> None:
    field = (b"<< /FT /Btn /Ff 49152 /T <FEFF006B0069006E0064> /V /m#c3#a4nnlich /Kids [ ] "
             b"/Subtype /Widget /Rect [ 0 0 1 1 ] /AS /m#c3#a4nnlich >>")
    path = _objstm_pdf(tmp_path / "hex.pdf", field)
    assert read_fields(path) == {"kind": "männlich"} == _slow_path(path)


@pytest.mark.parametrize("spec", ["x", "3-1", "0"])
def test_cli_invalid_page_list_exits_2_with_one_line(long_pdf: Path, capsys: pytest.CaptureFixture[str], spec) -> None:
    assert cli_main(["pdf", "text", str(long_pdf), "--pages", spec]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rathaus: Seitenangabe")


def test_cli_stops_quietly_when_the_reader_goes_away(long_pdf: Path) -> None:
    exe = Path(sys.executable).parent / "rathaus"
    result = subprocess.run(f"'{exe}' pdf text '{long_pdf}' | head -c 10", shell=True, capture_output=True,
                            text=True, check=False)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_find_form_pdf_takes_the_first_matching_form_and_names_a_broken_one_by_number(tmp_path):
    form = tmp_path / "Antrag_Müller.pdf"
    build_form(form, "Antrag", (FieldSpec("kind.geburtsdatum", "Geburtsdatum"),), {"kind.geburtsdatum": "01.02.2020"})
    broken = tmp_path / "Scan_Müller.pdf"
    broken.write_bytes(form.read_bytes()[:200])
    note = tmp_path / "notiz.txt"
    note.write_text("kein PDF", encoding="utf-8")

    found = reader.find_form_pdf([note, broken, form], lambda fields: "kind.geburtsdatum" in fields)
    assert (found.pdf, found.pdf_count) == (form, 2)
    assert "im PDF-Anhang Nr. 1" in found.unreadable and "Müller" not in found.unreadable
    missing = reader.find_form_pdf([broken, form], lambda fields: "gibt.es.nicht" in fields)
    assert missing.pdf is None and missing.unreadable is not None
    assert reader.find_form_pdf([note], lambda fields: True) == reader.FormSearch(None, 0, None)
