"""Loading and validating a city robot's configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from rathaus import Process
from rathaus.core.config import ConfigError, load_robot_config
from rathaus.core.project import Project
from rathaus.errors import BusinessError, recent_error

ROOT = Path(__file__).resolve().parents[2]
GIESSEN = ROOT / "robots" / "giessen" / "unterhaltsvorschuss" / "config.yaml"


def _config_with(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "override.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_giessen_config_is_valid_and_gets_master_data_and_defaults():
    config = load_robot_config(GIESSEN, project=Project(ROOT))
    assert config["stadt_daten"]["name"] == "Universitätsstadt Gießen"
    assert config["prozess"]["owner"] == "giessen"
    assert config["fachverfahren"]["zeitlimit_s"] == 30
    assert config["pruefung"]["pflichtanlagen"] == ["geburtsurkunde"]


def test_misspelled_key_names_file_key_and_allowed_keys(tmp_path):
    override = _config_with(tmp_path, "postfach:\n  ordnr: INBOX\n")
    with pytest.raises(ConfigError) as caught:
        load_robot_config(GIESSEN, [override], project=Project(ROOT))
    message = str(caught.value)
    assert str(GIESSEN) in message
    assert "'postfach.ordnr'" in message
    assert "eingang" in message and "erledigt" in message


def test_missing_required_key_is_named(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("process: unterhaltsvorschuss\nversion: 0.1.0\nstadt: giessen\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="Pflichtschlüssel 'postfach' fehlt"):
        load_robot_config(config, project=Project(ROOT))


def test_wrong_enum_value_lists_allowed_values(tmp_path):
    override = _config_with(tmp_path, "pruefung:\n  pflichtanlagen: [personalausweis]\n")
    with pytest.raises(ConfigError, match=r"'pruefung\.pflichtanlagen\.0'.*'personalausweis'.*'geburtsurkunde'"):
        load_robot_config(GIESSEN, [override], project=Project(ROOT))


def test_version_must_match_the_process(tmp_path):
    override = _config_with(tmp_path, "version: 9.9.9\n")
    with pytest.raises(ConfigError, match=r"Version '0\.1\.0'"):
        load_robot_config(GIESSEN, [override], project=Project(ROOT))


def test_malformed_yaml_names_the_line(tmp_path):
    broken = _config_with(tmp_path, "process: [unterhaltsvorschuss\n")
    with pytest.raises(ConfigError, match=r"kein gültiges YAML \(Zeile"):
        load_robot_config(broken, project=Project(ROOT))


def test_keyword_resolves_maildir_under_rathaus_home(monkeypatch, tmp_path):
    monkeypatch.setenv("RATHAUS_HOME", str(tmp_path))
    monkeypatch.setenv("RATHAUS_CONFIG_OVERRIDE", str(_config_with(tmp_path, "fachverfahren:\n  url: http://fv.test/\n")))
    config = Process().run_keyword("load_robot_configuration", [GIESSEN], {})
    assert config.postfach.url == f"maildir:{tmp_path / 'giessen' / 'uvg'}"


def test_the_keyword_refuses_a_sandbox_nobody_starts(monkeypatch):
    monkeypatch.delenv("RATHAUS_CONFIG_OVERRIDE", raising=False)
    with pytest.raises(ConfigError, match=r"'fachverfahren.url' ist 'sandbox'; die Sandbox startet nur `rathaus run`"):
        Process().run_keyword("load_robot_configuration", [GIESSEN], {})


def test_secret_from_environment_never_shows_its_value(monkeypatch):
    monkeypatch.setenv("UVG_TEST_SECRET", "geheim-123")
    secret = Process().run_keyword("get_secret_from_environment", ["UVG_TEST_SECRET"], {})
    assert secret.value == "geheim-123"
    assert "geheim-123" not in str(secret) and "geheim-123" not in repr(secret)


def test_missing_secret_names_the_variable(monkeypatch):
    monkeypatch.delenv("UVG_NOT_SET", raising=False)
    with pytest.raises(Exception, match="'UVG_NOT_SET'"):
        Process().run_keyword("get_secret_from_environment", ["UVG_NOT_SET"], {})


def test_classify_failure_knows_rathaus_errors_by_message():
    error = BusinessError("Antrag <x@y>: Kind zu alt.", code="KIND_ZU_ALT")
    assert recent_error(str(error)) is error
    failure = Process().run_keyword("classify_failure", [str(error)], {})
    assert (failure.kind, failure.code) == ("BUSINESS", "KIND_ZU_ALT")
    other = Process().run_keyword("classify_failure", ["Element not found"], {})
    assert (other.kind, other.code) == ("APPLICATION", "UNEXPECTED")


def test_a_section_url_can_name_a_system_of_the_city_master_data(tmp_path):
    override = _config_with(tmp_path, "fachverfahren:\n  url: 'stadt:uvg_fachverfahren'\n")
    config = load_robot_config(GIESSEN, [override], project=Project(ROOT))
    assert config["fachverfahren"]["url"] == "https://uvg.intern.giessen.de/"


def test_an_unknown_system_of_the_city_names_the_known_ones(tmp_path):
    override = _config_with(tmp_path, "fachverfahren:\n  url: 'stadt:fachverfahren'\n")
    with pytest.raises(ConfigError) as caught:
        load_robot_config(GIESSEN, [override], project=Project(ROOT))
    message = str(caught.value)
    assert "'fachverfahren.url' hat den Wert 'stadt:fachverfahren'" in message
    assert "'stadt:uvg_fachverfahren'" in message and "'stadt:imap'" in message


def test_append_to_run_summary_writes_where_rathaus_run_prints_it(tmp_path, monkeypatch):
    from rathaus.core.runner import SUMMARY_FILE

    keywords = Process()
    monkeypatch.delenv("RATHAUS_RUN_DIR", raising=False)
    assert keywords.append_to_run_summary(["Erfasst: 3"]) is None
    monkeypatch.setenv("RATHAUS_RUN_DIR", str(tmp_path / "lauf"))
    path = keywords.append_to_run_summary(["Erfasst: 3", "Abgelehnt: 1"])
    keywords.append_to_run_summary("Rückweisungen versandt: 1")
    assert path == tmp_path / "lauf" / SUMMARY_FILE
    assert path.read_text(encoding="utf-8") == "Erfasst: 3\nAbgelehnt: 1\nRückweisungen versandt: 1\n"
    german = Process(language="de")
    assert "Zur Laufzusammenfassung Hinzufügen" in german.get_keyword_names()
    german.run_keyword("Zur Laufzusammenfassung Hinzufügen", [["Veröffentlicht: 2 Dateien"]], {})
    assert path.read_text(encoding="utf-8").endswith("Veröffentlicht: 2 Dateien\n")
