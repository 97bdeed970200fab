"""The robots a principal may see and start (the catalogue rows of ``services/catalogue.py``), filtered by city."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rathaus_controlroom.models import City, Robot, Role
from rathaus_controlroom.services.errors import NotFound
from rathaus_controlroom.services.users import Principal


def visible_robots(session: Session, principal: Principal) -> list[Robot]:
    """Operators see every city's robots; process owners their city's and those of the processes they own;
    everyone else their own city's robots."""
    query = select(Robot)
    if principal.role is Role.OWNER:
        query = query.where(or_(Robot.city_id == principal.city_id, Robot.owner_city_id == principal.city_id))
    elif principal.role is not Role.OPERATOR:
        query = query.where(Robot.city_id == principal.city_id)
    return list(session.scalars(query.order_by(Robot.city_id, Robot.title)))


def city_robot(session: Session, principal: Principal, robot_id: int) -> Robot:
    """One robot of the principal's own city; another city's robot is :class:`NotFound`."""
    robot = session.get(Robot, robot_id)
    if robot is None or robot.city_id != principal.city_id:
        raise NotFound(f"Roboter {robot_id} gibt es nicht oder er gehört zu einer anderen Stadt.")
    return robot


def city_names(session: Session) -> dict[str, str]:
    """City id -> display name, e.g. ``giessen`` -> ``Gießen``."""
    return {city: name for city, name in session.execute(select(City.id, City.name))}
