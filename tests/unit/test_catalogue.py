"""The process catalogue, `rathaus check` and `rathaus package` on the real project and on broken copies."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from rathaus.cli import main
from rathaus.core.catalogue import check_all
from rathaus.core.config import ConfigError, load_city
from rathaus.core.packaging import build_package, project_robot_yaml
from rathaus.core.project import Project

ROOT = Path(__file__).resolve().parents[2]
CITIES = ["fulda", "giessen", "limburg", "marburg", "offenbach", "wetzlar"]


@pytest.fixture
def project_copy(tmp_path: Path) -> Project:
    """A copy of the project's processes, master data and robots (not the libraries) to break."""
    for folder in ("processes", "resources", "robots"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", "devdata"))
    shutil.copy(ROOT / "robot.yaml", tmp_path / "robot.yaml")
    shutil.copy(ROOT / "conda.yaml", tmp_path / "conda.yaml")
    for folder in ("keywords", "sandbox"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    return Project(tmp_path)


def _edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_catalogue_lists_owner_version_and_adopting_cities(capsys):
    assert main(["processes", "--json"]) == 0
    listed = {entry["process"]: entry for entry in json.loads(capsys.readouterr().out)}
    uvg = listed["unterhaltsvorschuss"]
    assert uvg["owner"] == "giessen"
    assert uvg["version"] == "0.1.0"
    assert {c["city"] for c in uvg["cities"]} >= {"giessen", "fulda", "limburg", "wetzlar"}
    assert main(["processes"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["Prozess", "Eigentümer", "Version", "Übernommen", "von"]
    assert "unterhaltsvorschuss  giessen" in table


def test_a_misspelled_key_names_file_key_allowed_values_and_a_guess(project_copy, capsys, monkeypatch):
    config = project_copy.robots / "fulda" / "unterhaltsvorschuss" / "config.yaml"
    _edit_yaml(config, lambda d: d.update(postfch=d.pop("postfach")))
    monkeypatch.setenv("RATHAUS_PROJECT", str(project_copy.root))
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "robots/fulda/unterhaltsvorschuss/config.yaml" in line)
    assert "unbekannter Schlüssel 'postfch'" in line
    assert "erlaubt sind: amt, fachverfahren" in line
    assert "Gemeint ist vielleicht: 'postfach'" in line
    assert "Pflichtschlüssel 'postfach' fehlt" in out


def test_a_wrong_value_names_the_allowed_values(project_copy):
    config = project_copy.robots / "limburg" / "unterhaltsvorschuss" / "config.yaml"
    _edit_yaml(config, lambda d: d["pruefung"].update(pflichtanlagen=["geburtsurkunde", "reisepass"]))
    _, findings = check_all(project_copy)
    texts = [f.text(project_copy.root) for f in findings]
    assert any("pruefung.pflichtanlagen.1" in t and "'reisepass'" in t and "'unterhaltstitel'" in t for t in texts)


def test_a_pinned_version_the_process_does_not_have_is_reported(project_copy):
    config = project_copy.robots / "wetzlar" / "unterhaltsvorschuss" / "config.yaml"
    _edit_yaml(config, lambda d: d.update(version="0.0.9"))
    _, findings = check_all(project_copy)
    assert any("'0.0.9'" in f.message and "'0.1.0'" in f.message for f in findings)


def test_a_city_robot_with_own_keywords_or_a_missing_task_is_reported(project_copy):
    tasks = project_copy.robots / "giessen" / "unterhaltsvorschuss" / "tasks.robot"
    text = tasks.read_text(encoding="utf-8").replace("Anträge bearbeiten\n", "Bearbeiten\n")
    tasks.write_text(text + "\n*** Keywords ***\nEigenes Schlüsselwort\n    No Operation\n", encoding="utf-8")
    _, findings = check_all(project_copy)
    messages = [f.message for f in findings if f.path == tasks]
    assert any("eigene Schlüsselwörter" in m for m in messages)
    assert any("Aufgabe 'Anträge bearbeiten' fehlt" in m for m in messages)


def test_broken_master_data_and_a_missing_changelog_are_reported(project_copy):
    _edit_yaml(project_copy.cities / "marburg" / "stadt.yaml", lambda d: d["anschrift"].update(plz="3503"))
    (project_copy.processes / "unterhaltsvorschuss" / "CHANGELOG.md").unlink()
    _, findings = check_all(project_copy)
    texts = [f.text(project_copy.root) for f in findings]
    assert any("resources/cities/marburg/stadt.yaml" in t and "anschrift.plz" in t for t in texts)
    assert any("CHANGELOG.md fehlt" in t for t in texts)


def test_an_outdated_robot_yaml_is_reported(project_copy):
    (project_copy.root / "robot.yaml").write_text("tasks: {}\n", encoding="utf-8")
    _, findings = check_all(project_copy)
    assert [f.text(project_copy.root) for f in findings if f.path.name == "robot.yaml"] == [
        "robot.yaml: passt nicht zu den Stadt-Robotern: Bitte `make robot-yaml` ausführen."]


def test_the_committed_robot_yaml_is_current():
    assert (ROOT / "robot.yaml").read_text(encoding="utf-8") == project_robot_yaml(Project(ROOT))


def test_unknown_city_in_a_config_is_a_clear_error(project_copy):
    with pytest.raises(ConfigError, match=r"Stammdaten der Stadt .kassel. fehlen.*vorhanden: fulda, giessen"):
        load_city(project_copy, "kassel")


def test_the_package_holds_what_the_robot_needs_and_nothing_else(tmp_path):
    path = build_package(Project(ROOT), "fulda/unterhaltsvorschuss", tmp_path)
    assert path.name == "fulda-unterhaltsvorschuss-0.1.0.zip"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        robot = yaml.safe_load(archive.read("robot.yaml"))
        conda = yaml.safe_load(archive.read("conda.yaml"))
    assert {"robot.yaml", "conda.yaml", "robots/fulda/unterhaltsvorschuss/tasks.robot",
            "robots/fulda/unterhaltsvorschuss/config.yaml", "resources/cities/fulda/stadt.yaml",
            "processes/unterhaltsvorschuss/process.yaml", "processes/unterhaltsvorschuss/steps/intake.resource",
            "keywords/rathaus/__init__.py", "sandbox/rathaus_sandbox/fachverfahren/app.py"} <= set(names)
    assert any(n.startswith("devdata/work-items-in/") and n.endswith("work-items.json") for n in names)
    # only this city, this process and the sandbox it uses
    assert not [n for n in names if n.startswith("robots/") and not n.startswith("robots/fulda/unterhaltsvorschuss/")]
    assert not [n for n in names if n.startswith("resources/cities/") and "/fulda/" not in n and "/schemas/" not in n]
    assert not [n for n in names if n.startswith("processes/") and not n.startswith("processes/unterhaltsvorschuss/")]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/samples/" in n or "tests/" in n]
    assert not [n for n in names if n.startswith("sandbox/") and "/fachverfahren/" not in n and n.count("/") > 2]
    # what rcc reads: tasks that run a file inside the zip, an environment file inside the zip
    assert robot["environmentConfigs"][-1] == "conda.yaml" and "dependencies" in conda
    assert robot["artifactsDir"] == "output"
    for task in robot["tasks"].values():
        assert "robots/fulda/unterhaltsvorschuss/tasks.robot" in task["shell"]
    assert [t.split(" – ")[-1] for t in robot["tasks"]] == ["Anträge aus dem Postfach übernehmen",
                                                            "Anträge bearbeiten"]
    for folder in robot["PYTHONPATH"]:
        assert any(n.startswith(f"{folder}/") for n in names), folder


def test_the_same_sources_give_the_same_package(tmp_path):
    first = build_package(Project(ROOT), "giessen/unterhaltsvorschuss", tmp_path / "a").read_bytes()
    second = build_package(Project(ROOT), "giessen/unterhaltsvorschuss", tmp_path / "b").read_bytes()
    assert first == second


def test_packaging_an_unknown_robot_names_the_known_ones(capsys):
    assert main(["package", "fulda/hundesteuer"]) == 1
    err = capsys.readouterr().err
    assert "Robot 'fulda/hundesteuer' gibt es nicht" in err and "fulda/unterhaltsvorschuss" in err


def test_a_city_robot_pointing_at_another_citys_data_is_reported(project_copy):
    config = project_copy.robots / "wetzlar" / "e-rechnung" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("url: maildir:wetzlar/rechnung", "url: maildir:fulda/rechnung")
    config.write_text(text.replace("ordner: wetzlar/e-rechnung/archiv", "ordner: fulda/e-rechnung/archiv"),
                      encoding="utf-8")
    _, findings = check_all(project_copy)
    messages = [f.message for f in findings if f.path == config]
    assert any("'postfach.url' zeigt mit 'maildir:fulda/rechnung' auf Daten der Stadt 'fulda'" in m
               and "unter 'wetzlar/'" in m for m in messages)
    assert any("'archiv.ordner'" in m and "'fulda/e-rechnung/archiv'" in m for m in messages)


def test_a_broken_pattern_or_leitweg_id_in_master_data_is_reported_once(project_copy):
    rules = project_copy.cities / "limburg" / "posteingang.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        'betreff_muster: "\\\\bGewerbe(an|um|ab)meldung\\\\b"', 'betreff_muster: "(Gewerbe"'), encoding="utf-8")
    offices = project_copy.cities / "wetzlar" / "leitweg.yaml"
    offices.write_text(offices.read_text(encoding="utf-8").replace('"06532023-10-69"', '"06532023-10-68"'),
                       encoding="utf-8")
    _, findings = check_all(project_copy)
    texts = [f.text(project_copy.root) for f in findings]
    pattern = [t for t in texts if "'(Gewerbe'" in t]
    assert len(pattern) == 1 and "erwartet: ein gültiger regulärer Ausdruck" in pattern[0]
    assert "resources/cities/limburg/posteingang.yaml" in pattern[0]
    leitweg = [t for t in texts if "'06532023-10-68'" in t]
    assert len(leitweg) == 1 and "gültige Leitweg-ID mit richtiger Prüfziffer" in leitweg[0]
