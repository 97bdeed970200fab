"""Errors the services raise; the web layer maps them to HTTP status codes and German pages."""

from __future__ import annotations

from rathaus.errors import BusinessError


class ControlRoomError(BusinessError):
    """Base: a request the control room refuses; the message is German and says what to do."""

    code = "CONTROLROOM"
    status = 400
    #: more of the answer for API clients (names of fields or cases, never secrets)
    details: dict | None = None


class NotFound(ControlRoomError):
    """The object does not exist or belongs to another city: both look the same from outside (404)."""

    code = "NOT_FOUND"
    status = 404


class Forbidden(ControlRoomError):
    """The user's role does not allow this action on objects of their own city (403)."""

    code = "FORBIDDEN"
    status = 403


class Conflict(ControlRoomError):
    """The request contradicts the current state (409), e.g. cancelling a finished run."""

    code = "CONFLICT"
    status = 409


class Invalid(ControlRoomError):
    """The input is malformed (422): the message names the field and what is allowed."""

    code = "INVALID"
    status = 422


class Unauthenticated(ControlRoomError):
    """No valid session, API token or runner token (401)."""

    code = "UNAUTHENTICATED"
    status = 401
