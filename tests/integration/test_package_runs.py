"""A packaged robot runs from its own unzipped folder, as rcc runs it: robot.yaml's task command, robot.yaml's
PYTHONPATH, nothing from the checkout."""

from __future__ import annotations

import os
import shlex
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml
from rathaus.core.packaging import build_package
from rathaus.core.project import Project

ROOT = Path(__file__).resolve().parents[2]


def test_the_producer_task_of_a_packaged_robot_runs_inside_the_unzipped_package(tmp_path):
    package = build_package(Project(ROOT), "wetzlar/unterhaltsvorschuss", tmp_path / "build")
    robot_dir = tmp_path / "robot"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(robot_dir)
    definition = yaml.safe_load((robot_dir / "robot.yaml").read_text(encoding="utf-8"))
    producer = next(task for name, task in definition["tasks"].items() if name.endswith("übernehmen"))

    home = tmp_path / "home"
    samples = robot_dir / "processes" / "unterhaltsvorschuss" / "samples"
    assert not samples.exists(), "sample generators are not part of a package"
    subprocess.run(
        [sys.executable, str(ROOT / "processes" / "unterhaltsvorschuss" / "samples" / "generate.py"),
         "--out", str(tmp_path / "mails"), "--maildir", str(home / "wetzlar" / "uvg"), "--good", "2"],
        check=True, capture_output=True,
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("RATHAUS_", "RPA_"))}
    env.update({
        "PYTHONPATH": os.pathsep.join(str(robot_dir / p) for p in definition["PYTHONPATH"]),
        "RATHAUS_HOME": str(home),
        "RATHAUS_WORKITEMS_DB": str(home / "workitems.sqlite"),
        "RATHAUS_WORKITEMS_OUTPUT_QUEUE": "wetzlar/unterhaltsvorschuss",
    })
    command = shlex.split(producer["shell"])
    assert command[:3] == ["python", "-m", "robot"]
    # run from a folder outside the checkout, so that nothing is found upwards from the working directory
    result = subprocess.run([sys.executable, *command[1:]], cwd=robot_dir, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    # outside `rathaus run` nobody starts the sandbox: the robot stops before touching a mail and says what to set
    assert result.returncode != 0
    assert "'fachverfahren.url' ist 'sandbox'" in result.stdout and "stadt:<system>" in result.stdout
    assert not (home / "workitems.sqlite").exists() or _count(home / "workitems.sqlite") == 0

    production = tmp_path / "produktion.yaml"
    production.write_text("fachverfahren:\n  url: 'stadt:uvg_fachverfahren'\n", encoding="utf-8")
    env["RATHAUS_CONFIG_OVERRIDE"] = str(production)
    result = subprocess.run([sys.executable, *command[1:]], cwd=robot_dir, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert _count(home / "workitems.sqlite") == 8  # 2 good applications and the 6 bad kinds, one item per mail
    probe = subprocess.run([sys.executable, "-c", "import rathaus; print(rathaus.__file__)"], cwd=robot_dir, env=env,
                           capture_output=True, text=True, check=True)
    assert probe.stdout.strip().startswith(str(robot_dir / "keywords")), probe.stdout


def _count(database: Path) -> int:
    with sqlite3.connect(database) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return db.execute("SELECT COUNT(*) FROM items").fetchone()[0] if "items" in tables else 0
