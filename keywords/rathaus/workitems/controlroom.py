"""Work items in the rathaus control room: the adapter a robot uses while a runner runs it.

As ``RPA.Robocorp.WorkItems`` talks to Robocorp's Control Room, this adapter talks to the rathaus control room's
runner API with the item token of one run attempt (``RATHAUS_CONTROLROOM_ITEM_TOKEN``, handed by the runner):
every reserve, release, variable, file and output item goes there as it happens, so the control room knows each
case's state at every moment and a clerk sees a producer's new item at once. The control room refuses the calls of
an attempt that lost its run (409): the adapter then raises :class:`LeaseLostError` and the robot stops.

Only the Python standard library is used (``urllib``): the robot runtime needs no HTTP package.

| =Setting= | =Environment= |
| adapter | ``RPA_WORKITEMS_ADAPTER=controlroom`` |
| control room address | ``RATHAUS_CONTROLROOM_URL`` |
| item token | ``RATHAUS_CONTROLROOM_ITEM_TOKEN`` |
| input / output | ``RATHAUS_WORKITEMS_INPUT_QUEUE`` / ``…_OUTPUT_QUEUE`` set: the step consumes / produces |

The queue is always the run's robot; the queue names only say which role a step has, as for the SQLite queue.
"""

from __future__ import annotations

import contextlib
import json
import logging
import mimetypes
import shutil
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rathaus.workitems.adapters import BaseAdapter
from rathaus.workitems.errors import (
    EmptyQueue,
    LeaseLostError,
    WorkItemFileMissingError,
    WorkItemsSetupError,
    WorkItemUsageError,
)
from rathaus.workitems.model import State
from rathaus.workitems.settings import Settings
from rathaus.workitems.states import ItemState

LOG = logging.getLogger("rathaus.workitems")
SEED_ID = "seed"
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ReportedItem:
    """An item of the run as the control room reports it (the attributes ``rathaus run``'s summary reads)."""

    id: str
    key: str
    status: ItemState
    payload: dict[str, Any]
    variables: dict[str, Any]
    files: tuple[str, ...]
    exception_type: str | None
    code: str | None
    message: str | None
    attempts: int
    released_at: datetime | None

    @classmethod
    def of(cls, data: dict[str, Any]) -> ReportedItem:
        state = ItemState(data["state"])
        kind = {"failed_business": "BUSINESS", "failed_application": "APPLICATION"}.get(state.value)
        released = data.get("released_at")
        return cls(str(data["id"]), data["reference"], state, data.get("payload") or {}, data.get("payload") or {},
                   tuple(data.get("files") or ()), kind, data.get("code"), data.get("message"),
                   int(data.get("attempts") or 0), datetime.fromisoformat(released) if released else None)


class ControlRoomAdapter(BaseAdapter):
    """Work items of the run's robot in the control room (see the module documentation)."""

    saves_on_release = True

    def __init__(self, settings: Settings) -> None:
        if not settings.controlroom_url or not settings.controlroom_token:
            raise WorkItemsSetupError(
                "Für den Kontrollraum-Adapter fehlen RATHAUS_CONTROLROOM_URL und RATHAUS_CONTROLROOM_ITEM_TOKEN: "
                "der Runner setzt sie; ohne Kontrollraum bitte den Adapter 'queue' oder 'file' verwenden."
            )
        self.settings = settings
        self.base = settings.controlroom_url.rstrip("/") + "/api/runner/items"
        self.token = settings.controlroom_token
        self._seeded = False
        self._cache: dict[str, dict[str, Any]] = {}

    # -- HTTP ------------------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _open(self, method: str, path: str = "", body: bytes | None = None, content_type: str | None = None,
              ) -> Iterator[Any]:
        """The control room's answer to one request; its refusals as the library's errors."""
        request = urllib.request.Request(self.base + path, data=body, method=method)  # noqa: S310 - http(s) only
        request.add_header("Authorization", f"Bearer {self.token}")
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310
                yield answer
        except urllib.error.HTTPError as error:
            detail = _detail(error.read())
            if error.code == 409:
                raise LeaseLostError(f"Der Kontrollraum nimmt nichts mehr an: {detail}") from None
            if error.code == 404 and "Datei" in detail:
                raise WorkItemFileMissingError(detail) from None
            if error.code in (400, 404, 413, 422):
                raise WorkItemUsageError(f"Der Kontrollraum lehnt ab: {detail}") from None
            raise WorkItemsSetupError(f"Der Kontrollraum antwortet {error.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise WorkItemsSetupError(
                f"Der Kontrollraum {self.settings.controlroom_url} ist nicht erreichbar ({reason}): der Vorgang "
                "bleibt reserviert und wird nach Ablauf der Frist erneut versucht."
            ) from None

    def _call(self, method: str, path: str = "", body: bytes | None = None, content_type: str | None = None,
              ) -> tuple[int, bytes]:
        with self._open(method, path, body, content_type) as answer:
            return answer.status, answer.read()

    def _json(self, method: str, path: str = "", data: Any = None) -> Any:
        body = json.dumps(data).encode() if data is not None else None
        status, answer = self._call(method, path, body, "application/json" if body is not None else None)
        return None if status == 204 or not answer else json.loads(answer)

    def _remember(self, data: dict[str, Any]) -> dict[str, Any]:
        self._cache[str(data["id"])] = data
        return data

    def _item(self, item_id: str) -> dict[str, Any]:
        if item_id not in self._cache:
            self._remember(self._json("GET", f"/{_quote(item_id)}"))
        return self._cache[item_id]

    # -- queue operations ------------------------------------------------------------------------------------------

    def reserve_input(self) -> str:
        if self.settings.input_queue is None:  # a producer step: one empty item to run the task once
            if self._seeded:
                raise EmptyQueue("Keine weiteren Arbeitselemente: dieser Schritt nimmt keine Vorgänge.")
            self._seeded = True
            self._cache[SEED_ID] = {"id": SEED_ID, "payload": {}, "files": []}
            return SEED_ID
        data = self._json("POST", "/reserve")
        if data is None:
            raise EmptyQueue("Der Kontrollraum hat keine offenen Vorgänge mehr für diesen Roboter.")
        LOG.info("action=reserve adapter=controlroom item=%s attempt=%s", data["id"], data.get("attempts"))
        return str(self._remember(data)["id"])

    def release_input(self, item_id: str, state: State, exception: dict[str, Any] | None = None) -> None:
        if item_id == SEED_ID:
            return
        exception = exception or {}
        body = {"state": "DONE" if state is State.DONE else "FAILED", "exception_type": exception.get("type"),
                "code": exception.get("code"), "message": exception.get("message")}
        self._remember(self._json("POST", f"/{_quote(item_id)}/release", body))
        LOG.info("action=release adapter=controlroom item=%s state=%s code=%s", item_id, state.name,
                 exception.get("code"))

    def create_output(self, parent_id: str | None, payload: Any, key: str | None = None,
                      files: dict[str, Path] | None = None) -> tuple[str, bool]:
        if self.settings.output_queue is None:
            raise WorkItemsSetupError(
                "Keine Ausgangs-Warteschlange eingestellt: dieser Schritt legt keine Vorgänge an."
            )
        fields = {"payload": json.dumps(payload, ensure_ascii=False)}
        if key is not None:
            fields["reference"] = str(key)
        if parent_id and parent_id != SEED_ID:
            fields["parent_id"] = str(parent_id)
        body, content_type = _multipart(fields, files or {})
        _, answer = self._call("POST", "", body, content_type)
        data = json.loads(answer)
        self._remember(data)
        LOG.info("action=create adapter=controlroom item=%s created=%s files=%d", data["id"], data.get("created"),
                 len(files or {}))
        return str(data["id"]), bool(data.get("created"))

    def load_payload(self, item_id: str) -> Any:
        return dict(self._item(item_id).get("payload") or {})

    def save_payload(self, item_id: str, payload: Any) -> None:
        if item_id == SEED_ID:
            self._cache[SEED_ID]["payload"] = payload
            return
        self._remember(self._json("PUT", f"/{_quote(item_id)}/payload", {"payload": payload}))

    def list_files(self, item_id: str) -> list[str]:
        return list(self._item(item_id).get("files") or [])

    def get_file(self, item_id: str, name: str, target: Path) -> None:
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._open("GET", f"/{_quote(item_id)}/files/{_quote(name)}") as answer, target.open("wb") as out:
            shutil.copyfileobj(answer, out)

    def add_file(self, item_id: str, name: str, source: Path) -> None:
        _, answer = self._call("PUT", f"/{_quote(item_id)}/files/{_quote(name)}", Path(source).read_bytes(),
                               "application/octet-stream")
        self._remember(json.loads(answer))

    def remove_file(self, item_id: str, name: str) -> None:
        self._remember(self._json("DELETE", f"/{_quote(item_id)}/files/{_quote(name)}"))

    # -- reports ---------------------------------------------------------------------------------------------------

    def list_items(self, queue: str | None = None) -> list[ReportedItem]:
        """The items the run worked on or created (``queue`` is ignored: it is always the run's robot)."""
        return [ReportedItem.of(data) for data in self._json("GET") or []]


def _quote(text: str) -> str:
    return urllib.parse.quote(str(text), safe="")


def _detail(body: bytes) -> str:
    try:
        return str(json.loads(body).get("detail"))[:500]
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")


def _multipart(fields: dict[str, str], files: dict[str, Path]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with ``fields`` and ``files`` (all under the form name ``dateien``)."""
    boundary = f"rathaus-{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                     + value.encode() + b"\r\n")
    for name, path in files.items():
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        sent = name.replace('"', "%22").replace("\r", " ").replace("\n", " ")  # as browsers send names
        header = (f'--{boundary}\r\nContent-Disposition: form-data; name="dateien"; filename="{sent}"\r\n'
                  f"Content-Type: {kind}\r\n\r\n")
        parts.append(header.encode() + Path(path).read_bytes() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
