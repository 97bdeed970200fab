"""Work-item parity with rpaframework: one producer/consumer robot written only with the documented keywords of
``RPA.Robocorp.WorkItems`` runs on rpaframework and on ``rathaus.WorkItems`` (the library swapped in the import
line only) with Robocorp's file adapter (``devdata/work-items.json``), and both give the same results and the same
output work items: variables, file names and file contents.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = {"RPA.Robocorp.WorkItems": "RPA.Robocorp.WorkItems.FileAdapter", "rathaus.WorkItems": "FileAdapter"}

ROBOT = """\
*** Settings ***
Documentation       Producer and consumer with rpaframework's work-item keywords only.
Library             Collections
Library             OperatingSystem
Library             ${LIBRARY}


*** Tasks ***
Produce
    For Each Input Work Item    Produce One

Consume
    For Each Input Work Item    Consume One


*** Keywords ***
Produce One
    ${variables}=    Get Work Item Variables
    Set Task Variables From Work Item
    IF    not $name
        Release Input Work Item    FAILED    exception_type=BUSINESS    code=NAME_FEHLT    message=Kein Name
        RETURN
    END
    ${paths}=    Get Work Item Files    *.txt
    ${notes}=    Create List
    FOR    ${path}    IN    @{paths}
        ${text}=    Get File    ${path}
        Append To List    ${notes}    ${text.strip()}
    END
    &{out}=    Create Dictionary    name=${name.upper()}    betrag=${betrag}    notizen=${notes}
    Create Output Work Item    variables=${out}    files=${paths}    save=True

Consume One
    ${name}=    Get Work Item Variable    name
    ${missing}=    Get Work Item Variable    gibt_es_nicht    default=leer
    Set Work Item Variable    geprueft    ${missing}
    Set Work Item Variables    ergebnis=ok    zeichen=${{len($name)}}
    ${removed}=    Remove Work Item Files    *.tmp.txt
    Set Work Item Variable    entfernt    ${removed}
    ${names}=    List Work Item Files
    Set Work Item Variable    dateien    ${names}
    Delete Work Item Variables    betrag
    IF    $name == 'LEER'
        Clear Work Item
    END
    Save Work Item
    ${payload}=    Get Work Item Payload
    Create Output Work Item    variables=${payload}    save=True
"""


def _inputs(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, text in {"antrag.txt": "Antrag von Anna\n", "hinweis.tmp.txt": "Entwurf\n", "b.txt": "Bert\n"}.items():
        (folder / name).write_text(text, encoding="utf-8")
    items = [
        {"payload": {"name": "anna", "betrag": 12}, "files": {"antrag.txt": "antrag.txt",
                                                           "hinweis.tmp.txt": "hinweis.tmp.txt"}},
        {"payload": {"name": "", "betrag": 0}, "files": {}},
        {"payload": {"name": "bert", "betrag": 7}, "files": {"b.txt": "b.txt"}},
        {"payload": {"name": "leer", "betrag": 1}, "files": {}},
    ]
    path = folder / "work-items.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


def _step(library: str, task: str, suite: Path, work: Path, source: Path, target: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RPA_", "RATHAUS_", "RC_"))}
    env.update({"RPA_WORKITEMS_ADAPTER": ADAPTERS[library], "RPA_INPUT_WORKITEM_PATH": str(source),
                "RPA_OUTPUT_WORKITEM_PATH": str(target), "PYTHONPATH": str(ROOT / "keywords")})
    return subprocess.run([sys.executable, "-m", "robot", "--variable", f"LIBRARY:{library}", "--task", task,
                           "--output", "NONE", "--log", "NONE", "--report", "NONE", "--console", "quiet",
                           str(suite)], cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False)


def _outputs(path: Path) -> list[dict]:
    """The output items: variables, and each file's name and content (paths differ between the libraries)."""
    items = json.loads(path.read_text(encoding="utf-8"))
    return [{"payload": item["payload"],
             "files": {name: (path.parent / file).read_text(encoding="utf-8")
                       for name, file in sorted((item.get("files") or {}).items())}}
            for item in items]


def _run(library: str, tmp_path: Path) -> tuple[list[int], list[dict], list[dict]]:
    work = tmp_path / library
    source = _inputs(work / "devdata")
    suite = work / "tasks.robot"
    suite.write_text(ROBOT, encoding="utf-8")
    produced, consumed = work / "output" / "produced.json", work / "output" / "consumed.json"
    produced.parent.mkdir()
    first = _step(library, "Produce", suite, work, source, produced)
    made = _outputs(produced)  # (before the consumer saves its changes of these items into the same file)
    second = _step(library, "Consume", suite, work, produced, consumed)
    return [first.returncode, second.returncode], made, _outputs(consumed)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, tuple[list[int], list[dict], list[dict]]]:
    pytest.importorskip("RPA.Robocorp.WorkItems")
    tmp = tmp_path_factory.mktemp("parity")
    return {library: _run(library, tmp) for library in ADAPTERS}


def test_the_robot_gives_the_same_results_and_output_items_on_both_libraries(results):
    theirs, ours = results["RPA.Robocorp.WorkItems"], results["rathaus.WorkItems"]
    assert theirs[0] == [0, 0], theirs
    assert ours == theirs


def test_the_output_items_are_what_the_robot_says(results):
    _, produced, consumed = results["rathaus.WorkItems"]
    assert [item["payload"]["name"] for item in produced] == ["ANNA", "BERT", "LEER"]
    assert produced[0]["payload"]["notizen"] == ["Antrag von Anna", "Entwurf"]
    assert produced[0]["files"] == {"antrag.txt": "Antrag von Anna\n", "hinweis.tmp.txt": "Entwurf\n"}
    first = consumed[0]["payload"]
    assert (first["ergebnis"], first["zeichen"], first["geprueft"], first["entfernt"], first["dateien"]) == (
        "ok", 4, "leer", ["hinweis.tmp.txt"], ["antrag.txt"])
    assert "betrag" not in first and consumed[0]["files"] == {}  # the consumer's output carries the payload only
    assert consumed[2] == {"payload": {}, "files": {}}  # the input was cleared before its payload was passed on


KEYED = """\
*** Settings ***
Library             ${LIBRARY}


*** Tasks ***
Produce Twice
    FOR    ${n}    IN RANGE    2
        &{variables}=    Create Dictionary    message_id=<a@example.org>    work_item_key=<a@example.org>
        Create Output Work Item    variables=${variables}    save=True
    END
"""


def test_a_producer_with_an_idempotency_key_runs_on_both_and_rathaus_keeps_one_item_per_key(tmp_path):
    pytest.importorskip("RPA.Robocorp.WorkItems")
    made = {}
    for library in ADAPTERS:
        work = tmp_path / library
        source = _inputs(work / "devdata")
        suite = work / "keyed.robot"
        suite.write_text(KEYED, encoding="utf-8")
        target = work / "output.json"
        done = _step(library, "Produce Twice", suite, work, source, target)
        assert done.returncode == 0, done.stdout + done.stderr
        made[library] = [item["payload"] for item in _outputs(target)]
    # rpaframework keeps the key as an ordinary variable; rathaus takes it as the key and creates the item once
    assert made["RPA.Robocorp.WorkItems"] == [{"message_id": "<a@example.org>",
                                               "work_item_key": "<a@example.org>"}] * 2
    assert made["rathaus.WorkItems"] == [{"message_id": "<a@example.org>"}]
