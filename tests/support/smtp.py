"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, for tests and demos.

Usage::

    with SmtpServer() as server:
        ... send to server.host:server.port ...
        server.messages  # list of raw bytes, oldest first
        server.maildir   # the same messages in a Maildir (new/)

``users={"robot": "pw"}`` turns on AUTH PLAIN/LOGIN (also without TLS, for tests only).
Importable without pytest.
"""

from __future__ import annotations

import mailbox
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from .dovecot import free_port


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        self.server._store(bytes(raw), envelope.mail_from, list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd in a thread; received mail in :attr:`messages`, :attr:`envelopes` and a Maildir."""

    host = "127.0.0.1"

    def __init__(self, users: dict[str, str] | None = None, root: str | Path | None = None) -> None:
        self.users = dict(users or {})
        self._own_root = root is None
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="rathaus-smtp-"))
        self.maildir_path = self.root / "Maildir"
        self.messages: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self.port = 0
        self._controller: Controller | None = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            user = data.login.decode("utf-8")
            if self.users.get(user) == data.password.decode("utf-8"):
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def _store(self, raw: bytes, sender: str, recipients: list[str]) -> None:
        with self._lock:
            self.messages.append(raw)
            self.envelopes.append((sender, recipients))
            box = mailbox.Maildir(self.maildir_path, create=True)
            box.add(raw)
            box.close()

    def start(self) -> SmtpServer:
        if self._controller is not None:
            return self
        self.port = free_port()
        options: dict[str, Any] = {}
        if self.users:
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def clear(self) -> None:
        """Forget what was received so far."""
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
