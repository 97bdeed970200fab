"""German keyword names (``translation_de.json``) for the rathaus libraries: complete, unique, in sync, usable.

``Library    rathaus.Mail    language=de`` exposes the same keywords under German names with German
documentation (pythonlibcore translations, docs/adr/0008-german-keywords.md). These tests fail when a new
English keyword has no German name, when a JSON entry names a method that no longer exists, and when the
German documentation no longer matches the keyword's arguments.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import rathaus
from rathaus.errors import ApplicationError
from rathaus.translation import (
    LIBRARY_ENTRIES,
    TranslationError,
    library_translation_file,
    load_translation,
    normalize_language,
    validate,
)
from rathaus_sandbox.pdfforms import build_form
from robot import run
from robot.api import ExecutionResult, ResultVisitor
from robot.conf.languages import Language
from robot.libdocpkg import LibraryDocumentation
from robot.utils import normalize
from unterhaltsvorschuss.samples.generate import EXAMPLE, FORM

#: the libraries whose German names are kept here; rathaus.EInvoice keeps its own file
LIBRARIES = ["Mail", "PDF", "WebForms", "Documents", "WorkItems", "Process"]
TRANSLATED = LIBRARIES + [name for name in ("EInvoice",) if library_translation_file(f"rathaus.{name}")]
STANDARD_LIBRARIES = ["BuiltIn", "Collections", "DateTime", "OperatingSystem", "Process", "String", "XML"]
LINK = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
HEADING = re.compile(r"^\s*=+\s*(.+?)\s*=+\s*$", re.MULTILINE)


def norm(name: str) -> str:
    """A keyword name as Robot matches it: case, spaces and underscores do not count."""
    return normalize(name, ignore="_")


def translation(name: str) -> dict[str, dict[str, str]]:
    path = library_translation_file(f"rathaus.{name}")
    assert path is not None, f"rathaus.{name} has no translation_de.json"
    return json.loads(path.read_text(encoding="utf-8"))


def german_names(name: str) -> dict[str, str]:
    """Method name -> German keyword name."""
    return {key: entry["name"] for key, entry in translation(name).items() if key not in LIBRARY_ENTRIES}


def library(name: str, **kwargs):
    return getattr(rathaus, name)(**kwargs)


def methods(instance) -> dict[str, str]:
    """Keyword name -> Python method name of a library instance."""
    return {keyword: method.__name__ for keyword, method in instance.keywords.items()}


@pytest.fixture(autouse=True)
def _quiet_cwd(tmp_path, monkeypatch):
    """Libraries that default to ``output/`` (WorkItems' queue database) write into the test's folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RATHAUS_WORKITEMS_DB", raising=False)


# -- completeness and names -----------------------------------------------------------------------


@pytest.mark.parametrize("name", LIBRARIES)
def test_library_has_a_valid_german_translation(name):
    data = translation(name)
    assert validate(data) == []
    assert data["__intro__"]["doc"].strip(), "the German library introduction is missing"


@pytest.mark.parametrize("name", TRANSLATED)
def test_every_keyword_has_a_german_name_and_no_entry_is_stale(name):
    english = set(methods(library(name)).values())
    translated = set(german_names(name))
    assert not english - translated, f"rathaus.{name}: keywords without a German name: {sorted(english - translated)}"
    assert not translated - english, (
        f"rathaus.{name}: translation_de.json names methods that are no keywords: {sorted(translated - english)}"
    )


@pytest.mark.parametrize("name", TRANSLATED)
def test_german_names_are_unique_and_differ_from_the_english_ones(name):
    names = [norm(german) for german in german_names(name).values()]
    duplicates = sorted({german for german in names if names.count(german) > 1})
    assert not duplicates, f"rathaus.{name}: German names used twice: {duplicates}"
    english = {norm(keyword) for keyword in library(name).keywords}
    assert not english & set(names), f"rathaus.{name}: German names equal to English ones: {english & set(names)}"


def test_german_names_are_unique_across_all_libraries():
    owners: dict[str, list[str]] = {}
    for name in TRANSLATED:
        for german in german_names(name).values():
            owners.setdefault(norm(german), []).append(f"rathaus.{name}: {german}")
    clashes = [found for found in owners.values() if len(found) > 1]
    assert not clashes, f"the same German keyword name in several libraries: {clashes}"


def test_german_names_read_as_robot_sentences_and_never_shadow_standard_keywords():
    bdd_prefixes = {prefix.lower() for prefix in Language.from_name("German").bdd_prefixes}
    standard = {
        norm(keyword.name): library_name
        for library_name in STANDARD_LIBRARIES
        for keyword in LibraryDocumentation(library_name).keywords
    }
    for name in TRANSLATED:
        for german in german_names(name).values():
            words = german.split(" ")
            assert all(word[:1].isupper() for word in words), f"{german!r}: every word starts with a capital"
            assert german == german.strip() and "  " not in german, f"{german!r}: single spaces only"
            assert words[0].lower() not in bdd_prefixes, f"{german!r}: Robot would read '{words[0]}' as BDD prefix"
            assert norm(german) not in standard, f"{german!r} shadows {standard.get(norm(german))}"


# -- choosing the language -------------------------------------------------------------------------


@pytest.mark.parametrize("name", TRANSLATED)
def test_language_de_exposes_the_german_names_for_the_same_methods(name):
    german = library(name, language="de")
    expected = {german_name: method for method, german_name in german_names(name).items()}
    assert methods(german) == expected
    assert library(name, language=" DE ").get_keyword_names() == german.get_keyword_names()


@pytest.mark.parametrize("name", TRANSLATED)
def test_language_en_and_the_default_expose_the_english_names(name):
    default = library(name)
    english = library(name, language="en")
    assert english.get_keyword_names() == default.get_keyword_names()
    assert methods(english) == methods(default)
    assert not set(english.get_keyword_names()) & set(german_names(name).values())


@pytest.mark.parametrize("name", LIBRARIES)
def test_an_unknown_language_fails_with_a_german_message(name):
    with pytest.raises(TranslationError) as failure:
        library(name, language="fr")
    message = str(failure.value)
    assert f"Unbekannte Sprache 'fr' für die Bibliothek rathaus.{name}" in message
    assert "'en' (Englisch)" in message and "'de' (Deutsch)" in message
    assert "language=de" in message
    assert isinstance(failure.value, ApplicationError)


def test_empty_language_means_english():
    assert normalize_language(None, "rathaus.Mail") == "en"
    assert normalize_language("", "rathaus.Mail") == "en"
    assert load_translation(Path("nirgends"), "en", "rathaus.Mail") is None


def test_broken_translation_files_fail_with_the_file_named(tmp_path):
    missing = tmp_path / "fehlt"
    missing.mkdir()
    with pytest.raises(TranslationError, match=r"fehlt die Übersetzungsdatei .*translation_de\.json"):
        load_translation(missing, "de", "rathaus.Test")

    broken = tmp_path / "kaputt"
    broken.mkdir()
    (broken / "translation_de.json").write_text('{"open_mailbox": ', encoding="utf-8")
    with pytest.raises(TranslationError, match="ist kein gültiges JSON"):
        load_translation(broken, "de", "rathaus.Test")

    incomplete = tmp_path / "unvollstaendig"
    incomplete.mkdir()
    data = {"open_mailbox": {"doc": "Öffnet das Postfach."}, "close_mailbox": {"name": "Postfach Schließen"},
            "list_folders": {"name": "Ordner Auflisten", "doc": "Listet.", "args": []}, "__intro__": "Einführung"}
    (incomplete / "translation_de.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(TranslationError) as failure:
        load_translation(incomplete, "de", "rathaus.Test")
    message = str(failure.value)
    assert "'open_mailbox' hat keinen Schlüsselwortnamen" in message
    assert "'close_mailbox' hat keine Dokumentation" in message
    assert "'list_folders' hat unbekannte Schlüssel ['args']" in message
    assert "'__intro__' muss ein Objekt" in message


# -- German documentation in sync with the keywords ------------------------------------------------


def _documented_arguments(doc: str) -> set[str]:
    """Argument names in the first column of the ``=Argumente=`` table."""
    names: set[str] = set()
    in_table = False
    for line in doc.splitlines():
        if "=Argumente=" in line:
            in_table = True
            continue
        if in_table and not line.startswith("|"):
            break
        if in_table:
            first_cell = line.split("|")[1]
            names |= {name.lstrip("*") for name in re.findall(r"``([^`]+)``", first_cell)}
    return names


@pytest.mark.parametrize("name", TRANSLATED)
def test_german_argument_tables_name_exactly_the_keyword_arguments(name):
    doc = LibraryDocumentation(f"rathaus.{name}::language=de")
    for keyword in doc.keywords:
        arguments = set(keyword.args.argument_names)
        assert _documented_arguments(keyword.doc) == arguments, (
            f"rathaus.{name}: the German table of '{keyword.name}' does not match its arguments {sorted(arguments)}"
        )


@pytest.mark.parametrize("name", TRANSLATED)
def test_links_in_german_docs_point_to_german_keywords_or_sections(name):
    doc = LibraryDocumentation(f"rathaus.{name}::language=de")
    targets = {norm(keyword.name) for keyword in doc.keywords}
    targets |= {norm(heading) for heading in HEADING.findall(doc.doc)}
    texts = {"Einführung": doc.doc, **{keyword.name: keyword.doc for keyword in doc.keywords}}
    broken = {
        f"{where}: `{link}`"
        for where, text in texts.items()
        for link in LINK.findall(text)
        if norm(link) not in targets
    }
    assert not broken, f"rathaus.{name}: links to no German keyword: {sorted(broken)}"


def _example_calls(doc: str) -> set[str]:
    """Normalized cells of the example lines (after ``Beispiel``), without ````code```` cells."""
    lines = doc.splitlines()
    starts = [index for index, line in enumerate(lines) if line.strip().lstrip("= ").startswith("Beispiel")]
    cells = set()
    for line in lines[starts[0] + 1:] if starts else []:
        if line.startswith("|"):
            parts = re.split(r"\|| {2,}", line)
            cells |= {norm(cell.strip(" `")) for cell in parts if not cell.strip().startswith("``")}
    return cells


@pytest.mark.parametrize("name", TRANSLATED)
def test_german_examples_call_keywords_by_their_german_names(name):
    english = {norm(keyword) for keyword in library(name).keywords}
    for method, entry in translation(name).items():
        calls = _example_calls(entry["doc"])
        assert not calls & english, f"rathaus.{name} {method}: English keyword in a German example: {calls & english}"
        if method not in LIBRARY_ENTRIES:
            assert norm(entry["name"]) in calls, f"rathaus.{name} {method}: the example does not call {entry['name']}"


# -- a German robot ---------------------------------------------------------------------------------

GERMAN_SUITE = """\
Language: German

*** Einstellungen ***
Dokumentation    Ein Robot, der ganz auf Deutsch geschrieben ist.
Bibliothek       rathaus.PDF          language=de
Bibliothek       rathaus.WorkItems    adapter=FileAdapter    input_path=${EINGABE}    output_path=${AUSGABE}
...              language=de
Bibliothek       rathaus.Process      language=de

*** Aufgaben ***
Antrag Aus PDF Lesen
    ${felder}=    PDF-Formularfelder Lesen    ${ANTRAG}
    Should Be Equal    ${felder}[kind.vorname]    Zoë
    PDF-Formularfeldwert Lesen    ${ANTRAG}    antragsteller.ort    ==    Gießen
    ${seiten}=    PDF-Seitenanzahl Ermitteln    ${ANTRAG}
    Should Be Equal As Integers    ${seiten}    1
    ${text}=    Text Von PDF-Seite Lesen    ${ANTRAG}    1
    Should Contain    ${text}    Unterhaltsvorschuss

Anträge Übernehmen
    @{ergebnisse}=    Für Jedes Eingabe-Arbeitselement    Antrag Übernehmen
    Length Should Be    ${ergebnisse}    2

*** Schlüsselwörter ***
Antrag Übernehmen
    [Dokumentation]    Liest den Antrag eines Arbeitselements und meldet fehlende Anträge an die Sachbearbeitung.
    ${aktenzeichen}=    Arbeitselement-Variable Lesen    aktenzeichen
    TRY
        ${dateien}=    Arbeitselement-Dateien Auflisten
        IF    not $dateien
            Fachlichen Fehler Auslösen    Fall ${aktenzeichen}: Die Antrags-PDF fehlt.    ANTRAG_FEHLT
        END
        ${antrag}=    Arbeitselement-Datei Holen    antrag.pdf    ${ARBEIT}/${aktenzeichen}.pdf
        ${vorname}=    PDF-Formularfeldwert Lesen    ${antrag}    kind.vorname    ==    Zoë
        Ausgabe-Arbeitselement Anlegen    variables=${{{'aktenzeichen': $aktenzeichen, 'kind': $vorname}}}
        ...    save=${True}
    EXCEPT    AS    ${fehler}
        ${art}=    Fehler Klassifizieren    ${fehler}
        Should Be Equal    ${art.kind}    BUSINESS
        Eingabe-Arbeitselement Freigeben    FAILED    ${art.kind}    ${art.code}    ${fehler}
    END
    RETURN    ${aktenzeichen}
"""

EXPECTED_GERMAN_KEYWORDS = {
    ("rathaus.PDF", "PDF-Formularfelder Lesen"),
    ("rathaus.PDF", "PDF-Formularfeldwert Lesen"),
    ("rathaus.PDF", "PDF-Seitenanzahl Ermitteln"),
    ("rathaus.PDF", "Text Von PDF-Seite Lesen"),
    ("rathaus.WorkItems", "Für Jedes Eingabe-Arbeitselement"),
    ("rathaus.WorkItems", "Arbeitselement-Variable Lesen"),
    ("rathaus.WorkItems", "Arbeitselement-Dateien Auflisten"),
    ("rathaus.WorkItems", "Arbeitselement-Datei Holen"),
    ("rathaus.WorkItems", "Ausgabe-Arbeitselement Anlegen"),
    ("rathaus.WorkItems", "Eingabe-Arbeitselement Freigeben"),
    ("rathaus.Process", "Fachlichen Fehler Auslösen"),
    ("rathaus.Process", "Fehler Klassifizieren"),
}


class _Keywords(ResultVisitor):
    def __init__(self) -> None:
        self.called: set[tuple[str, str]] = set()
        self.failed: list[str] = []

    def start_keyword(self, keyword) -> None:
        self.called.add((keyword.owner or "", keyword.name))
        if keyword.failed:
            self.failed.append(keyword.name)


def _robot(tmp_path: Path, suite: str, **variables: object) -> ExecutionResult:
    path = tmp_path / "deutsch.robot"
    path.write_text(suite, encoding="utf-8")
    out = tmp_path / "robot-output"
    console = io.StringIO()
    run(str(path), outputdir=str(out), log="NONE", report="NONE", stdout=console, stderr=console,
        variable=[f"{key}:{value}" for key, value in variables.items()])
    return ExecutionResult(str(out / "output.xml"))


def test_a_robot_written_in_german_runs_with_the_german_keywords(tmp_path):
    antrag = build_form(tmp_path / "antrag.pdf", "Antrag auf Unterhaltsvorschuss", FORM, EXAMPLE)
    case = tmp_path / "devdata" / "work-items-in" / "zwei-antraege"
    case.mkdir(parents=True)
    (case / "antrag.pdf").write_bytes(antrag.read_bytes())
    items = [{"payload": {"aktenzeichen": "UVG-2026-0001"}, "files": {"antrag.pdf": "antrag.pdf"}},
             {"payload": {"aktenzeichen": "UVG-2026-0002"}, "files": {}}]
    (case / "work-items.json").write_text(json.dumps(items), encoding="utf-8")
    ausgabe = tmp_path / "devdata" / "work-items-out" / "work-items.json"
    (tmp_path / "arbeit").mkdir()

    result = _robot(tmp_path, GERMAN_SUITE, ANTRAG=antrag, EINGABE=case / "work-items.json", AUSGABE=ausgabe,
                    ARBEIT=tmp_path / "arbeit")

    assert [(test.name, test.status) for test in result.suite.tests] == [
        ("Antrag Aus PDF Lesen", "PASS"), ("Anträge Übernehmen", "PASS")]
    assert not result.errors.messages, [message.message for message in result.errors.messages]
    visitor = _Keywords()
    result.visit(visitor)
    assert visitor.called >= EXPECTED_GERMAN_KEYWORDS
    assert visitor.failed == ["Fachlichen Fehler Auslösen"], "only the missing PDF of the second case fails"
    english = {keyword for name in ("PDF", "WorkItems", "Process") for keyword in library(name).keywords}
    assert not {keyword for _, keyword in visitor.called} & english
    output = json.loads(ausgabe.read_text(encoding="utf-8"))
    assert [item["payload"] for item in output] == [{"aktenzeichen": "UVG-2026-0001", "kind": "Zoë"}]


def test_robot_reports_an_unknown_language_in_german(tmp_path):
    suite = ("Language: German\n\n*** Einstellungen ***\nBibliothek    rathaus.Mail    language=englisch\n\n"
             "*** Aufgaben ***\nNichts Tun\n    No Operation\n")
    result = _robot(tmp_path, suite)
    messages = " ".join(message.message for message in result.errors.messages)
    assert "Unbekannte Sprache 'englisch' für die Bibliothek rathaus.Mail" in messages
    assert "'de' (Deutsch)" in messages
