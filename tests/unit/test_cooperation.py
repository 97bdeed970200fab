"""The cooperation as a whole: six cities, each adopting at least three processes, every robot valid."""

from __future__ import annotations

from pathlib import Path

from rathaus.core.catalogue import catalogue, check_all
from rathaus.core.config import known_cities, load_city
from rathaus.core.project import Project

ROOT = Path(__file__).resolve().parents[2]
CITIES = ["fulda", "giessen", "limburg", "marburg", "offenbach", "wetzlar"]


def test_every_city_robot_of_the_project_passes_the_check():
    robots, findings = check_all(Project(ROOT))
    assert [f.text(ROOT) for f in findings] == []
    assert len(robots) >= 18


def test_all_six_cities_have_master_data_and_adopt_at_least_three_processes():
    project = Project(ROOT)
    assert known_cities(project) == CITIES
    adopted: dict[str, set[str]] = {city: set() for city in CITIES}
    for entry in catalogue(project):
        for adoption in entry.adoptions:
            adopted[adoption.city].add(entry.name)
    assert all(len(processes) >= 3 for processes in adopted.values()), adopted
    for city in CITIES:
        data = load_city(project, city)
        assert data["id"] == city
        assert data["briefkopf"]["absenderzeile"]
