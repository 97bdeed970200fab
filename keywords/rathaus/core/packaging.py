"""``rathaus package <city>/<process>``: one city robot as a ``robot.zip`` for Robocorp tooling (rcc, Control Room).

The zip holds exactly what the robot needs: its own ``robot.yaml`` (one task per process step), the project's
``conda.yaml``, the ``rathaus`` keyword libraries, the one process, the one city's master data and robot
folder, and the process's ``devdata/`` at the top level, where rcc looks for local work items and
``env.json``. Everything else (other cities, other processes, tests, samples, caches) stays out.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from rathaus_sandbox import SANDBOX_APPS

from rathaus.core.config import ConfigError, load_process, load_robot_config
from rathaus.core.project import Project

#: files never packaged, wherever they are
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache", "samples"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}
#: Robot options every packaged task uses: no separate report, assignments logged without values
ROBOT_TASK_OPTIONS = "--report NONE --outputdir output --maxassignlength 0"
#: a fixed timestamp, so that the same sources give the same zip
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def task_title(city_name: str, process_title: str, task: str) -> str:
    return f"{city_name} {process_title} – {task}"


def robot_tasks(project: Project, robot: str) -> dict[str, dict[str, str]]:
    """The ``tasks:`` entries of robot.yaml for one city robot: one per step of its process."""
    city, process = robot.split("/")
    config = load_robot_config(project.robot_dir(robot) / "config.yaml", project=project)
    meta = config["prozess"]
    tasks = {}
    for step in meta["steps"]:
        title = task_title(config["stadt_daten"]["kurzname"], meta["title"], step["task"])
        tasks[title] = {
            "shell": f'python -m robot {ROBOT_TASK_OPTIONS} --logtitle "{title}" --task "{step["task"]}" '
                     f"robots/{city}/{process}/tasks.robot",
        }
    return tasks


def robot_yaml(tasks: dict[str, dict[str, str]], comment: str) -> str:
    """Text of a robot.yaml with the given tasks and the project's environment settings."""
    document: dict[str, Any] = {
        "tasks": tasks,
        "environmentConfigs": ["environment_linux_amd64_freeze.yaml", "conda.yaml"],
        "artifactsDir": "output",
        "PATH": ["."],
        "PYTHONPATH": ["keywords", "processes", "resources", "sandbox"],
        "ignoreFiles": [".gitignore"],
    }
    body = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000)
    return f"# {comment}\n{body}"


def project_robot_yaml(project: Project) -> str:
    """The project's top-level robot.yaml: every step of every city robot as a task."""
    tasks: dict[str, dict[str, str]] = {}
    for config in sorted(project.robots.glob("*/*/config.yaml")):
        tasks.update(robot_tasks(project, f"{config.parent.parent.name}/{config.parent.name}"))
    return robot_yaml(tasks, "Robocorp robot definition: every step of every city robot (made by `make robot-yaml`; "
                             "`rathaus package <city>/<process>` makes one robot's own).")


def _files(folder: Path, skip: Iterable[str] = ()) -> Iterator[Path]:
    skipped = set(skip)
    for path in sorted(folder.rglob("*")):
        parts = set(path.relative_to(folder).parts)
        if path.is_file() and not parts & (_SKIPPED_PARTS | skipped) and path.suffix not in _SKIPPED_SUFFIXES:
            yield path


def package_files(project: Project, robot: str) -> dict[str, Path]:
    """Archive name -> source file for everything the robot needs (without robot.yaml)."""
    city, process = robot.split("/")
    meta = load_process(project, process)
    root = project.root
    files: dict[str, Path] = {"conda.yaml": root / "conda.yaml"}
    sources: list[tuple[Path | None, tuple[str, ...]]] = [
        (root / "keywords" / "rathaus", ()),
        (meta["folder"], ("devdata",)),
        (project.cities / city, ()),
        (project.cities / "schemas", ()),
        (project.robot_dir(robot), ()),
    ]
    for folder, skip in sources:
        if folder is None:
            continue
        for path in _files(folder, skip):
            files[path.relative_to(root).as_posix()] = path
    sandbox = root / "sandbox" / "rathaus_sandbox"
    for app in sorted(set((meta.get("sandboxes") or {}).values())):
        for path in [*sandbox.glob("*.py"), *_files(sandbox / SANDBOX_APPS[app].rsplit(".", 1)[-1])]:
            files[path.relative_to(root).as_posix()] = path
    for library in meta.get("libraries") or []:
        # a process library may live in a package beside the process folder (``processes/<module>/``)
        module_folder = project.processes / library.split(".", 1)[0]
        if module_folder.is_dir() and module_folder != meta["folder"]:
            for path in _files(module_folder):
                files[path.relative_to(root).as_posix()] = path
    devdata = meta["folder"] / "devdata"
    if devdata.is_dir():
        for path in _files(devdata):
            files[(Path("devdata") / path.relative_to(devdata)).as_posix()] = path
    return files


def build_package(project: Project, robot: str, output: Path | None = None) -> Path:
    """Write ``<output>/<city>-<process>-<version>.zip`` (default ``build/``) and return its path."""
    robot_dir = project.robot_dir(robot)
    if robot.count("/") != 1 or not (robot_dir / "config.yaml").is_file():
        found = sorted(f"{p.parent.parent.name}/{p.parent.name}" for p in project.robots.glob("*/*/config.yaml"))
        raise ConfigError(f"Robot '{robot}' gibt es nicht; vorhanden: {', '.join(found)}.")
    city, process = robot.split("/")
    config = load_robot_config(robot_dir / "config.yaml", project=project)
    text = robot_yaml(robot_tasks(project, robot), (
        f"Robot {robot}: process '{process}' {config['version']} (owner {config['prozess']['owner']}), "
        f"made by `rathaus package {robot}`."))
    target = (output or project.root / "build").resolve()
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{city}-{process}-{config['version']}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "robot.yaml", text.encode("utf-8"))
        for name, source in sorted(package_files(project, robot).items()):
            _add(archive, name, source.read_bytes())
    return path


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)
