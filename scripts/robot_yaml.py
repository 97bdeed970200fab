"""Rewrite the top-level robot.yaml from the city robots: ``python scripts/robot_yaml.py`` (``make robot-yaml``)."""

from __future__ import annotations

import sys

from rathaus.core.packaging import project_robot_yaml
from rathaus.core.project import Project


def main() -> int:
    project = Project.locate()
    (project.root / "robot.yaml").write_text(project_robot_yaml(project), encoding="utf-8")
    print(f"robot.yaml: {project_robot_yaml(project).count('shell:')} Aufgaben")
    return 0


if __name__ == "__main__":
    sys.exit(main())
