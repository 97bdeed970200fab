"""Cities and robots as the project defines them (resources/cities, robots/, processes/)."""

from __future__ import annotations

from rathaus.core.catalogue import catalogue
from rathaus.core.config import known_cities, load_city
from rathaus.core.project import Project
from sqlalchemy import select
from sqlalchemy.orm import Session

from rathaus_controlroom.models import City, Robot


def sync_catalogue(session: Session, project: Project) -> list[Robot]:
    """Insert or update every city and every city robot of the project; returns the robots."""
    for city in known_cities(project):
        data = load_city(project, city)
        row = session.get(City, city)
        if row is None:
            session.add(City(id=city, name=data["name"]))
        else:
            row.name = data["name"]
    session.flush()
    robots = []
    for entry in catalogue(project):
        for adoption in entry.adoptions:
            robot = session.scalar(select(Robot).where(Robot.city_id == adoption.city, Robot.process == entry.name))
            if robot is None:
                robot = Robot(city_id=adoption.city, process=entry.name, title=entry.title,
                              version=adoption.version, owner_city_id=entry.owner)
                session.add(robot)
            else:
                robot.title, robot.version, robot.owner_city_id = entry.title, adoption.version, entry.owner
            robots.append(robot)
    session.flush()
    return robots
