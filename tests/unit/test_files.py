"""The one rule for file names from outside, shared by mail, PDF and work items, and the one text folding."""

from __future__ import annotations

import pytest
from rathaus.files import fold_text, safe_file_name
from rathaus.mail.message import safe_filename
from rathaus.workitems.adapters import safe_file_name as work_item_file_name


@pytest.mark.parametrize("make_safe", [safe_file_name, safe_filename, work_item_file_name])
def test_every_library_strips_folders_and_format_characters(make_safe):
    assert make_safe("../../Rechnung\u202egpj.exe") == "Rechnunggpj.exe"
    assert make_safe("Antrag Müller .pdf") == "Antrag Müller.pdf"
    assert make_safe("aux.pdf") == "_aux.pdf"


def test_fallback_for_names_that_say_nothing():
    assert safe_file_name("..") == "anhang"
    assert work_item_file_name("/") == "datei"


def test_fold_text_ignores_case_accents_and_sharp_s():
    assert fold_text("LÄRM") == fold_text("lärm") == "larm"
    assert fold_text("Straße") == fold_text("STRASSE") == fold_text("STRAẞE") == "strasse"
    assert fold_text("Éléonore Çelik") == "eleonore celik"
    assert fold_text("ﬁle") == "file"  # compatibility ligature


def test_fold_text_keeps_whitespace_unless_asked_to_collapse_it():
    assert fold_text(" Haupt\n straße ") == " haupt\n strasse "
    assert fold_text(" Haupt\n straße ", collapse_spaces=True) == "haupt strasse"
    assert fold_text(None, collapse_spaces=True) == "none"  # any value is folded as its text
