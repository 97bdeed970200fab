"""The Unterhaltsvorschuss consumer that runs through the control room (adapter ``controlroom``, tests/journeys) is
the same robot a Robocorp developer runs from robot.yaml with rpaframework's file adapter and ``devdata/``: it
enters the application, keeps the case data and the Aktenzeichen in the work item, and rpaframework's own
``RPA.Robocorp.WorkItems`` reads what it saved."""

from __future__ import annotations

import json
import mailbox
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import yaml
from support.sandbox import MANDANT, running_sandbox

ROOT = Path(__file__).resolve().parents[2]
DEVDATA = ROOT / "processes" / "unterhaltsvorschuss" / "devdata"
TASK = "Gießen Unterhaltsvorschuss – Antragseingang – Anträge bearbeiten"


def test_the_consumer_runs_from_robot_yaml_with_rpaframeworks_file_adapter_and_devdata(tmp_path, monkeypatch):
    case = tmp_path / "01-gut-1"
    shutil.copytree(DEVDATA / "work-items-in" / "01-gut-1", case)  # the file adapter writes into its input
    env_json = json.loads((DEVDATA / "env.json").read_text(encoding="utf-8"))
    password = env_json["GIESSEN_UVG_FACHVERFAHREN_PASSWORT"]
    # the application mail waits in the Gießen mailbox (a Maildir under RATHAUS_HOME, robots/giessen/…/config.yaml)
    home = tmp_path / "home"
    subprocess.run([sys.executable, str(ROOT / "processes/unterhaltsvorschuss/samples/generate.py"), "--out",
                    str(tmp_path / "mails"), "--maildir", str(home / "giessen" / "uvg"), "--good", "1"],
                   check=True, stdout=subprocess.DEVNULL)
    shell = yaml.safe_load((ROOT / "robot.yaml").read_text(encoding="utf-8"))["tasks"][TASK]["shell"]
    with running_sandbox(tmp_path, {"users": {"robot.giessen": password}, "mandant": MANDANT}) as sandbox:
        override = tmp_path / "entwicklung.yaml"
        override.write_text(f"fachverfahren:\n  url: '{sandbox.url}'\n", encoding="utf-8")
        env = {key: value for key, value in os.environ.items() if not key.startswith(("RATHAUS_", "RPA_"))}
        env.update(env_json)
        env.update({
            "RATHAUS_HOME": str(home),
            "RATHAUS_CONFIG_OVERRIDE": str(override),
            "RPA_WORKITEMS_ADAPTER": "FileAdapter",  # as rcc sets it from devdata/
            "RPA_INPUT_WORKITEM_PATH": str(case / "work-items.json"),
            "RPA_OUTPUT_WORKITEM_PATH": str(tmp_path / "work-items-out" / "work-items.json"),
            "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("keywords", "processes", "resources", "sandbox")),
        })
        command = shlex.split(shell)
        assert command[:3] == ["python", "-m", "robot"]
        result = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=300, check=False)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        with sqlite3.connect(sandbox.database) as connection:
            entered = connection.execute("SELECT aktenzeichen, antragsteller_name FROM faelle").fetchall()
    assert [name for _, name in entered] == ["Müller"], entered
    [(number, _)] = entered
    filed = mailbox.Maildir(home / "giessen" / "uvg", create=False).get_folder("Erledigt")
    assert [str(mail["Message-ID"]) for mail in filed] == ["<uvg-gut-1.1@antrag.example.org>"]

    # the item keeps the case data read from the form and the Aktenzeichen, in rpaframework's file format
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from RPA.Robocorp.WorkItems import WorkItems as RpaWorkItems
    monkeypatch.setenv("RPA_WORKITEMS_ADAPTER", "FileAdapter")
    monkeypatch.setenv("RPA_INPUT_WORKITEM_PATH", str(case / "work-items.json"))
    monkeypatch.setenv("RPA_OUTPUT_WORKITEM_PATH", str(tmp_path / "rpa-out" / "work-items.json"))
    rpa = RpaWorkItems(autoload=False)
    rpa.get_input_work_item()
    variables = rpa.get_work_item_variables()
    assert variables["aktenzeichen"] == number and variables["ergebnis"] == "eingetragen"
    assert variables["fall"]["antragsteller"]["name"] == "Müller"
    assert f"{number}-eingangsbestaetigung.pdf" in rpa.list_work_item_files() or any(
        name.startswith(number) for name in rpa.list_work_item_files()), rpa.list_work_item_files()
