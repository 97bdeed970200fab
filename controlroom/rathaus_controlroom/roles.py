"""The roles of the control room's users. Kept apart from the models so that the command line can offer them
without loading the database layer."""

from __future__ import annotations

import enum


class Role(enum.Enum):
    CLERK = "clerk"  #: starts its city's robots, sees its city's runs, handles cases handed back
    OWNER = "owner"  #: process owner: publishes its processes' versions, sees statistics, never case data
    ADMIN = "admin"  #: city admin: users, schedules, credentials and runners of its city
    OPERATOR = "operator"  #: runs the platform; belongs to no city
