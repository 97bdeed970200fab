"""Marburg's statistics office and the Nutzungsstatistik robot in ``rathaus controlroom --demo``: the platforms'
monthly exports uploaded in the control room, or found in the robot's folder by a run without uploads, become the
open-data publication; a malformed export is set aside with a German message and blocks nothing."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROBOT = "marburg/nutzungsstatistik"
CLERK = "marburg.sachbearbeitung"
# robots/marburg/nutzungsstatistik/config.yaml: quelle, ziel, fehlerhaft (folders under the robot's home)
SOURCE = "marburg/nutzungsstatistik/exporte"
TARGET = "marburg/nutzungsstatistik/veroeffentlicht"


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exporte")
    subprocess.run([sys.executable, str(ROOT / "processes/nutzungsstatistik/samples/generate.py"), "--out",
                    str(folder), "--city", "marburg", "--year", "2025", "--bad"], check=True, stdout=subprocess.DEVNULL)
    return folder


def _published_months(room, year: int) -> set[str]:
    [table] = (room.robot_home(ROBOT) / TARGET).rglob(f"*{year}.csv")
    return {row["monat"] for row in csv.DictReader(io.StringIO(table.read_text(encoding="utf-8")))}


def test_uploaded_exports_are_published_and_a_malformed_one_is_set_aside(demo_room, exports):
    room = demo_room
    good = sorted(p for p in exports.glob("*.csv") if "korrektur" not in p.name)  # the --bad one: "k. A."
    bad = sorted(set(exports.glob("*.csv")) - set(good))
    assert good and bad, sorted(p.name for p in exports.glob("*.csv"))
    with room.client(CLERK) as clerk:
        refused = clerk.post("/api/runs", data={"robot": ROBOT}, files=[("dateien", ("export.xlsx", b"PK", "x"))])
        assert refused.status_code == 422 and "export.xlsx" in refused.json()["detail"], refused.text

        run = room.wait(clerk, room.start(clerk, ROBOT, [(p.name, p.read_bytes()) for p in good + bad]))
        assert f"Exporte gelesen: {len(good)}" in run["message"], run["message"]
        for path in bad:  # named, with what to do; the good ones are published regardless
            assert path.name in run["message"], run["message"]
        # each export's case ends as the robot reported it, not as the run ended
        cases = {item["payload"]["dateien"][0]: item for item in room.items(clerk, ROBOT)
                 if item["run_id"] == run["id"]}
        assert {name: item["state"] for name, item in cases.items()} == {
            **{path.name: "done" for path in good}, **{path.name: "failed_business" for path in bad}}, cases
        for path in bad:
            assert cases[path.name]["error_code"].startswith("EXPORT_"), cases[path.name]
            assert path.name in cases[path.name]["error_message"], cases[path.name]
        artifacts = {a["name"] for a in clerk.get(f"/api/runs/{run['id']}/artifacts").json()}
        assert any(name.startswith("ergebnis/") and name.endswith("2025.csv") for name in artifacts), artifacts
        assert any(name.endswith(".png") for name in artifacts), artifacts
    months = _published_months(room, 2025)
    assert months and all(month.startswith("2025-") for month in months), months
    assert not list((room.robot_home(ROBOT) / SOURCE).glob("*.csv"))  # taken out of the folder once published
    aside = room.robot_home(ROBOT) / SOURCE / "fehlerhaft"  # config `fehlerhaft`: kept with the reason beside it
    for path in bad:
        assert (aside / path.name).read_bytes() == path.read_bytes()
        assert (aside / f"{path.name}.fehler.txt").read_text(encoding="utf-8").strip()


def test_a_run_without_uploads_takes_the_exports_from_its_folder(demo_room, tmp_path):
    room = demo_room
    subprocess.run([sys.executable, str(ROOT / "processes/nutzungsstatistik/samples/generate.py"), "--out",
                    str(room.robot_home(ROBOT) / SOURCE), "--city", "marburg", "--year", "2024"], check=True,
                   stdout=subprocess.DEVNULL)
    waiting = sorted((room.robot_home(ROBOT) / SOURCE).glob("*.csv"))
    with room.client(CLERK) as clerk:
        run = room.wait(clerk, room.start(clerk, ROBOT))
    assert run["state"] == "succeeded", run["message"]
    assert f"Exporte gelesen: {len(waiting)}" in run["message"], run["message"]
    assert {month[:4] for month in _published_months(room, 2024)} == {"2024"}
