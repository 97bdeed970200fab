"""What a case is and how cases come in (process.yaml ``case:`` and ``intake:``), and a mail as a work item."""

from __future__ import annotations

import shutil
from email.message import EmailMessage
from pathlib import Path

import pytest
from rathaus.core.cases import Intake, case_problems, describe_problems, load_case_schema
from rathaus.core.config import ConfigError, known_processes, load_process
from rathaus.core.project import Project
from rathaus.mail.intake import mail_case, read_mail_file
from rathaus.mail.message import build_mail_message
from unterhaltsvorschuss.antrag import FIELDS, case_from_fields

ROOT = Path(__file__).resolve().parents[2]
PROJECT = Project(ROOT)


@pytest.mark.parametrize("name", known_processes(PROJECT))
def test_every_process_declares_its_intake_and_a_titled_case_schema(name):
    meta = load_process(PROJECT, name)
    intake = Intake.of(meta)
    assert intake is not None and intake.kinds, name
    assert all(t.startswith(".") for t in intake.file_types)
    assert meta["case_schema"]["type"] == "object" and meta["case_schema"].get("title")


def test_the_uvg_schema_has_every_form_field_and_requires_what_the_form_requires():
    schema = load_process(PROJECT, "unterhaltsvorschuss")["case_schema"]
    for field in FIELDS:
        group, _, key = field.name.partition(".")
        assert key in schema["properties"][group]["properties"], field.name
        assert (key in schema["properties"][group].get("required", [])) == field.required, field.name
    blank = case_from_fields({f.name: None for f in FIELDS}, "<a@b>")
    problems = case_problems(blank, schema)
    assert "Antragstellende Person: IBAN fehlt" in describe_problems(problems)
    assert {p.field for p in problems} >= {"antragsteller.iban", "kind.geburtsdatum", "leistung.beginn"}


def test_case_problems_name_the_field_by_its_titles_in_german():
    schema = load_process(PROJECT, "unterhaltsvorschuss")["case_schema"]
    data = case_from_fields({f.name: "" for f in FIELDS} | {"antragsteller.plz": "3539"}, "<a@b>")
    messages = {p.field: p.message for p in case_problems(data, schema)}
    assert messages["antragsteller.plz"] == ("Antragstellende Person: Postleitzahl '3539' hat nicht die richtige "
                                             "Form; erwartet: fünf Ziffern")
    assert messages["kind.name"] == "Kind: Name fehlt"
    assert case_problems([1], schema)[0].message.startswith("Die Falldaten müssen")


def _process_copy(tmp_path: Path, **changes: str) -> Project:
    shutil.copytree(ROOT / "processes" / "unterhaltsvorschuss", tmp_path / "processes" / "unterhaltsvorschuss")
    shutil.copytree(ROOT / "resources", tmp_path / "resources")
    for file, (old, new) in changes.items():
        path = tmp_path / "processes" / "unterhaltsvorschuss" / file
        path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return Project(tmp_path)


def test_an_unknown_intake_kind_or_an_untitled_field_is_refused(tmp_path):
    project = _process_copy(tmp_path / "a", **{"process.yaml": ("kinds: [postfach, upload]", "kinds: [fax]")})
    with pytest.raises(ConfigError, match=r"intake\.kinds\.0"):
        load_process(project, "unterhaltsvorschuss")
    project = _process_copy(tmp_path / "b", **{"fall.schema.yaml": ("name: {title: Name, ", "name: {")})
    with pytest.raises(ConfigError, match=r"ohne deutschen Titel.*antragsteller\.name"):
        load_process(project, "unterhaltsvorschuss")
    with pytest.raises(ConfigError, match="kein gültiges JSON Schema"):
        (tmp_path / "kaputt.yaml").write_text("type: 17\n", encoding="utf-8")
        load_case_schema(tmp_path, "kaputt.yaml")


def _mail() -> bytes:
    message = EmailMessage()
    message["From"] = "Mia Beispiel <mia@example.org>"
    message["Subject"] = "Antrag auf Unterhaltsvorschuss"
    message["Message-ID"] = "<antrag-1@example.org>"
    message["Date"] = "Mon, 02 Nov 2026 09:30:00 +0100"
    message.set_content("Anbei mein Antrag.")
    for name in ("Antrag.pdf", "Antrag.pdf", "Geburtsurkunde.pdf"):
        message.add_attachment(b"%PDF-1.4 " + name.encode(), maintype="application", subtype="pdf", filename=name)
    return message.as_bytes()


def test_a_mail_becomes_the_same_case_from_the_mailbox_and_as_an_upload():
    from_box = mail_case(build_mail_message(_mail(), uid=7, folder="INBOX", uidvalidity=1))
    uploaded = mail_case(read_mail_file("antrag.eml", _mail()), source="upload", max_size=24)
    assert from_box.key == uploaded.key == "<antrag-1@example.org>"
    assert from_box.variables == {"message_id": "<antrag-1@example.org>", "absender": "mia@example.org",
                                  "betreff": "Antrag auf Unterhaltsvorschuss", "eingang": "02.11.2026",
                                  "uebersprungene_anhaenge": [], "quelle": "postfach"}
    assert from_box.file_names == ["Antrag.pdf", "Antrag-2.pdf", "Geburtsurkunde.pdf"]
    assert uploaded.variables["quelle"] == "upload"
    assert uploaded.variables["uebersprungene_anhaenge"] == ["Geburtsurkunde.pdf"]  # larger than 24 bytes
    with pytest.raises(Exception, match=r"Die Datei 'notiz\.eml' ist keine Mail"):
        read_mail_file("notiz.eml", b"\x00\x01 kein Text")


def test_a_process_that_reads_the_mail_keeps_its_text_from_the_mailbox_and_from_an_upload():
    limit = Intake.of(load_process(PROJECT, "posteingang")).mail_text
    assert limit and Intake.of(load_process(PROJECT, "unterhaltsvorschuss")).mail_text is None
    from_box = mail_case(build_mail_message(_mail(), uid=7, folder="INBOX", uidvalidity=1), max_text=limit)
    uploaded = mail_case(read_mail_file("antrag.eml", _mail()), source="upload", max_text=limit)
    for case in (from_box, uploaded):
        assert case.variables["text"].strip() and case.variables["empfangen"].startswith("2026-11-02")
        assert case.variables["absender_name"] == "Mia Beispiel"
    assert {k: v for k, v in from_box.variables.items() if k != "quelle"} == {
        k: v for k, v in uploaded.variables.items() if k != "quelle"}
    short = mail_case(read_mail_file("antrag.eml", _mail()), source="upload", max_text=5)
    assert len(short.variables["text"]) == 5


def test_a_field_with_choices_from_master_data_lists_the_citys_entries_by_name():
    from rathaus.core.cases import with_city_choices
    from rathaus.core.config import read_yaml

    schema = load_process(PROJECT, "posteingang")["case_schema"]
    topics = {"posteingang": read_yaml(ROOT / "resources/cities/limburg/posteingang.yaml")}
    limburg = with_city_choices(schema, topics.get)
    department = limburg["properties"]["fachbereich"]
    assert department["x-titel"]["ordnungsamt"] == "Fachdienst Sicherheit und Ordnung"
    assert department["enum"] == [*topics["posteingang"]["fachbereiche"], None]
    assert "enum" not in schema["properties"]["fachbereich"]  # the process's schema stays as it is
    [problem] = case_problems({"fachbereich": "rathaus"}, limburg)
    assert problem.message.startswith("Zuständiger Fachbereich: 'rathaus' ist nicht erlaubt; erlaubt sind: "
                                      "Fachdienst Bürgerbüro, Fachdienst Sicherheit und Ordnung")
    assert case_problems({"fachbereich": None}, limburg) == []
    # a city without such master data: the field stays free text
    assert "enum" not in with_city_choices(schema, lambda topic: None)["properties"]["fachbereich"]


def test_choices_without_their_master_data_file_or_list_are_refused(tmp_path):
    (tmp_path / "fall.yaml").write_text("type: object\nproperties:\n  stelle: {title: Stelle, x-auswahl: {liste: x}}\n",
                                        encoding="utf-8")
    with pytest.raises(ConfigError, match="'x-auswahl' braucht 'stammdaten'"):
        load_case_schema(tmp_path, "fall.yaml")


def test_read_only_fields_are_shown_as_the_robot_read_them_and_not_taken_from_a_form():
    from rathaus.core.cases import read_only_changes
    from rathaus_controlroom.web.caseform import build_form, case_from_form

    schema = load_process(PROJECT, "posteingang")["case_schema"]
    case = {"absender": "a@example.org", "betreff": "Kita", "eingang": None, "fachbereich": None, "bemerkung": None,
            "text": "Ich bitte um einen Kita-Platz."}
    fields = {field.name: field for field in build_form(schema, case)}
    assert (fields["fall.text"].kind, fields["fall.text"].read_only, fields["fall.text"].shown) == (
        "long", True, "Ich bitte um einen Kita-Platz.")
    assert fields["fall.bemerkung"].kind == "long" and not fields["fall.bemerkung"].read_only  # maxLength 500
    assert fields["fall.betreff"].kind == "text"
    typed = {"fall.betreff": "Kita-Platz", "fall.text": "untergeschoben"}
    assert build_form(schema, case, typed)[-1].shown == "Ich bitte um einen Kita-Platz."
    back = case_from_form(schema, typed, case)
    assert back["text"] == case["text"] and back["betreff"] == "Kita-Platz"
    assert read_only_changes(schema, case, back) == []
    assert read_only_changes(schema, case, {**back, "text": "anders"}) == ["Gelesener Text"]
