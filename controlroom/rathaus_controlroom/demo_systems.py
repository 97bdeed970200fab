"""The demo's target systems: one long-lived sandbox per city robot section that says ``url: sandbox``.

``rathaus controlroom --demo`` starts them once, the way a city's real Fachverfahren, trade register and finance
system are always there: every run and every runner of that city robot works against the same system, so a second
run of the same applications finds them there and every Aktenzeichen is unique across runs. Their addresses reach the
runners with each run as configuration (``settings.robot_config``); their passwords are stored as the city's
credentials, encrypted, like any other password a city admin enters.
"""

from __future__ import annotations

import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rathaus.core.config import load_robot_config
from rathaus.core.project import Project

from rathaus_controlroom.models import Role
from rathaus_controlroom.services.users import Principal
from rathaus_controlroom.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Wanted:
    robot: str
    city: str
    section: str
    app: str
    user: str
    variable: str
    mandant: str


@dataclass
class DemoSystems:
    """The started sandboxes; :meth:`stop` ends them."""

    handles: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for handle in self.handles:
            handle.stop()


def _wanted(project: Project) -> list[_Wanted]:
    found = []
    for config_file in sorted(project.robots.glob("*/*/config.yaml")):
        robot = f"{config_file.parent.parent.name}/{config_file.parent.name}"
        config = load_robot_config(config_file, [], project)
        for section, app in (config["prozess"].get("sandboxes") or {}).items():
            settings = config.get(section) or {}
            if settings.get("url") == "sandbox":
                found.append(_Wanted(robot, robot.split("/", maxsplit=1)[0], section, app, settings["benutzer"],
                                     settings["passwort_variable"], config["stadt_daten"]["name"]))
    return found


def start_demo_systems(settings: Settings, database: Any, project: Project | None = None) -> DemoSystems:
    """Start the sandboxes every city robot's configuration asks for, store their passwords as the city's
    credentials and their addresses in ``settings.robot_config``."""
    from rathaus_sandbox.server import spawn_sandbox

    from rathaus_controlroom.services.credentials import save_credential

    project = project or Project.locate()
    wanted = _wanted(project)
    passwords = {(w.city, w.variable): secrets.token_urlsafe(18) for w in wanted}
    folder = Path(settings.data_dir) / "systeme"

    def start(entry: _Wanted) -> Any:
        target = folder / entry.robot / f"{entry.section}.sqlite"
        target.parent.mkdir(parents=True, exist_ok=True)
        return spawn_sandbox(app=entry.app, database=target, users={entry.user: passwords[entry.city, entry.variable]},
                             mandant=entry.mandant, timeout_s=60.0)

    systems = DemoSystems()
    with ThreadPoolExecutor(max_workers=4) as pool:
        started = list(pool.map(start, wanted))
    systems.handles.extend(started)
    with database.session() as session:
        for (city, variable), password in passwords.items():
            admin = Principal(None, "demo", city, Role.ADMIN)  # type: ignore[arg-type] - no user: the demo itself
            save_credential(session, settings.credential_key, admin, variable, password)
    for entry, handle in zip(wanted, started, strict=True):
        settings.robot_config.setdefault(entry.robot, {})[entry.section] = {"url": handle.url}
    log.info("action=demo_systems started=%d", len(started))
    return systems
