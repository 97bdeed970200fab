"""Every keyword of every library and process resource is documented; Libdoc renders the manual from it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from robot.libdocpkg import LibraryDocumentation

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from libdoc import LIBRARIES, german_libraries, resources  # noqa: E402

#: libraries that also speak German (``language=de``, their translation_de.json)
GERMAN_LIBRARIES = german_libraries()


def _documents(source: str):
    doc = LibraryDocumentation(source)
    assert doc.doc.strip(), f"{source} has no library documentation"
    assert doc.keywords, f"{source} has no keywords"
    return doc


@pytest.mark.parametrize("library", LIBRARIES)
def test_every_library_keyword_has_documentation(library):
    doc = _documents(library)
    undocumented = [kw.name for kw in doc.keywords if len(kw.doc.strip()) < 40]
    assert not undocumented, f"{library}: keywords without documentation: {undocumented}"
    no_example = [kw.name for kw in doc.keywords if "Example" not in kw.doc]
    assert not no_example, f"{library}: keywords without an example: {no_example}"


@pytest.mark.parametrize("library", GERMAN_LIBRARIES)
def test_every_german_keyword_has_documentation(library):
    doc = _documents(f"{library}::language=de")
    undocumented = [kw.name for kw in doc.keywords if len(kw.doc.strip()) < 40]
    assert not undocumented, f"{library}: German keywords without documentation: {undocumented}"
    no_table = [kw.name for kw in doc.keywords
                if kw.args.argument_names and not any(table in kw.doc for table in ("=Argumente=", "=Arguments="))]
    assert not no_table, f"{library}: German keywords with arguments but no arguments table: {no_table}"
    no_example = [kw.name for kw in doc.keywords if not any(word in kw.doc for word in ("Beispiel", "Example"))]
    assert not no_example, f"{library}: German keywords without an example: {no_example}"


def test_german_documentation_is_checked_for_every_core_library():
    assert {"rathaus.Mail", "rathaus.PDF", "rathaus.WebForms", "rathaus.Documents", "rathaus.WorkItems",
            "rathaus.Process"} <= set(GERMAN_LIBRARIES)


@pytest.mark.parametrize("resource", resources(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_resource_keyword_has_documentation(resource):
    doc = _documents(str(resource))
    undocumented = [kw.name for kw in doc.keywords if not kw.doc.strip()]
    assert not undocumented, f"{resource}: keywords without [Documentation]: {undocumented}"


def test_the_check_finds_an_undocumented_keyword(tmp_path):
    module = tmp_path / "half_documented.py"
    module.write_text('"""Library doc."""\n\ndef documented():\n    """Does a thing. Example: none needed here."""\n\n'
                      "def undocumented():\n    pass\n", encoding="utf-8")
    doc = LibraryDocumentation(str(module))
    assert [kw.name for kw in doc.keywords if not kw.doc.strip()] == ["Undocumented"]
