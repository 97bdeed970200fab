"""The sandbox form builder that tests and sample applications use."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from rathaus.pdf.reader import page_count, read_fields, read_text
from rathaus_sandbox.pdfforms import (
    FieldSpec,
    attach_files,
    build_form,
    encrypt_copy,
    truncate_copy,
)
from unterhaltsvorschuss.samples.generate import EXAMPLE as UNTERHALTSVORSCHUSS_SAMPLE
from unterhaltsvorschuss.samples.generate import FORM as UNTERHALTSVORSCHUSS_FIELDS


def test_unterhaltsvorschuss_form_matches_fields_md(tmp_path: Path) -> None:
    fields_md = Path(__file__).parents[2] / "processes" / "unterhaltsvorschuss" / "FIELDS.md"
    documented = [
        line.split("|")[1].strip()
        for line in fields_md.read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and "." in line.split("|")[1]
    ]
    assert [spec.name for spec in UNTERHALTSVORSCHUSS_FIELDS] == documented
    path = build_form(tmp_path / "uv.pdf", "Antrag auf Unterhaltsvorschuss", UNTERHALTSVORSCHUSS_FIELDS,
                      UNTERHALTSVORSCHUSS_SAMPLE)
    assert read_fields(path) == UNTERHALTSVORSCHUSS_SAMPLE
    assert page_count(path) == 1


def test_hierarchy_has_no_dots_in_partial_names(tmp_path: Path) -> None:
    specs = (FieldSpec("a.b.c", "Tief"), FieldSpec("a.d", "Flach"), FieldSpec("e", "Oben"))
    path = build_form(tmp_path / "h.pdf", "Hierarchie", specs, {"a.b.c": "Größe", "e": "Ähre"})
    assert read_fields(path) == {"a.b.c": "Größe", "a.d": None, "e": "Ähre"}

    def partial_names(refs: list) -> list[str]:
        names = []
        for ref in refs:
            node = ref.get_object()
            if "/T" in node:
                names.append(str(node["/T"]))
                names += partial_names(node.get("/Kids", []))
        return names

    names = partial_names(PdfReader(path).trailer["/Root"]["/AcroForm"]["/Fields"])
    assert sorted(names) == ["a", "b", "c", "d", "e"]


def test_radio_and_choice_selected_and_unselected(tmp_path: Path) -> None:
    specs = (
        FieldSpec("r.eins", "Eins", "radio", ("ja", "nein")),
        FieldSpec("r.zwei", "Zwei", "radio", ("ja", "nein")),
        FieldSpec("c.eins", "Drei", "choice", ("ledig", "verwitwet")),
        FieldSpec("c.zwei", "Vier", "choice", ("ledig", "verwitwet")),
    )
    path = build_form(tmp_path / "rc.pdf", "Auswahl", specs, {"r.eins": "nein", "c.eins": "verwitwet"})
    assert read_fields(path) == {"r.eins": "nein", "r.zwei": None, "c.eins": "verwitwet", "c.zwei": None}


def test_extra_pages_have_numbered_german_filler(tmp_path: Path) -> None:
    path = build_form(tmp_path / "lang.pdf", "Merkblatt", (FieldSpec("x", "X"),), extra_pages=4)
    assert page_count(path) == 5
    assert "Merkblatt: Erläuterungen, Seite 5" in read_text(path, [5])[5]


def test_rejects_values_that_do_not_fit(tmp_path: Path) -> None:
    specs = (FieldSpec("r", "R", "radio", ("a", "b")),)
    with pytest.raises(ValueError, match="not one of"):
        build_form(tmp_path / "x.pdf", "X", specs, {"r": "c"})
    with pytest.raises(ValueError, match="unknown fields"):
        build_form(tmp_path / "x.pdf", "X", specs, {"q": "a"})


def test_variants(tmp_path: Path) -> None:
    src = build_form(tmp_path / "a.pdf", "A", (FieldSpec("x", "X"),), {"x": "1"})
    assert PdfReader(encrypt_copy(src, tmp_path / "e.pdf", "pw")).is_encrypted
    assert len(truncate_copy(src, tmp_path / "t.pdf", 0.3).read_bytes()) < len(src.read_bytes())
    attached = attach_files(src, tmp_path / "m.pdf", {"anlage.txt": b"Hallo"})
    assert PdfReader(attached).attachments["anlage.txt"] == [b"Hallo"]
