"""The mail triggers' watchers: one thread per unpaused trigger that looks at its robot's inbox.

An IMAP mailbox whose server offers IDLE is watched in IDLE: the server reports a new message at once. Without
IDLE, and for a Maildir, the watcher looks every ``poll_s`` seconds. Each arrival is counted in the database
(:func:`services.triggers.record_mail`); the clock starts the run (:func:`services.triggers.fire_pending`). A
watcher never reads, moves or marks mail: it compares marks (UIDVALIDITY and UIDNEXT of the folder, the Maildir's
file names and times), so mail that arrived while it was away is seen when it connects again.

A connection that drops, a server that is down, a wrong password: the trigger shows the German reason to the
city's admins, and the watcher connects again after 1, 2, 4 … at most 60 seconds. Blocking I/O lives in these
threads, never on the web server's event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from rathaus.mail.backend import MailboxAddress, parse_address
from rathaus.mail.errors import MailError

from rathaus_controlroom import signals
from rathaus_controlroom.db import Database
from rathaus_controlroom.services import triggers
from rathaus_controlroom.services.errors import ControlRoomError
from rathaus_controlroom.settings import Settings

log = logging.getLogger(__name__)

#: an IDLE is ended and begun again this often, which also shows that the connection still lives (RFC 2177: < 29 min)
IDLE_RENEW_S = 120.0
#: a watcher whose mailbox is fine writes that it looked at most this often
STATUS_EVERY_S = 60.0
MAX_BACKOFF_S = 60.0


def arrived(mark: str | None, validity: int, uidnext: int, messages: int) -> bool:
    """Whether an IMAP folder got mail since ``mark`` (``<UIDVALIDITY>:<UIDNEXT>``; ``None``: never looked, then any
    mail in it counts)."""
    old_validity, _, old_next = (mark or "").partition(":")
    if not mark or not old_validity.isdigit() or not old_next.isdigit() or int(old_validity) != validity:
        return messages > 0
    return uidnext > int(old_next)


def _reason(error: BaseException, backoff: float) -> str:
    """A German, secret-free line for the admins (a password that cannot be decrypted is a ControlRoomError)."""
    if isinstance(error, (MailError, ControlRoomError)):
        text = str(error)
    else:
        text = f"Das Postfach ist nicht erreichbar ({type(error).__name__})."
    return f"{text} Nächster Versuch in {backoff:g} s."


class TriggerWatch(threading.Thread):
    """Watches the inbox of one trigger until :meth:`stop`."""

    def __init__(self, database: Database, settings: Settings, trigger_id: int, poll_s: int) -> None:
        super().__init__(name=f"rathaus-postfach-{trigger_id}", daemon=True)
        self.database, self.settings, self.trigger_id, self.poll_s = database, settings, trigger_id, poll_s
        self._stop = threading.Event()
        self._connected = False  # since the last failure: then the first retry comes at once

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        backoff = 1.0
        while not self.stopped:
            try:
                self._watch()
            except Exception as error:  # the watcher reports and tries again; it never dies
                if self.stopped:
                    break
                if self._connected:
                    backoff = 1.0
                self._connected = False
                log.warning("action=mail_watch outcome=error trigger=%s error=%s", self.trigger_id,
                            type(error).__name__)
                self._status("error", _reason(error, backoff))
                self._stop.wait(backoff)
                backoff = min(MAX_BACKOFF_S, backoff * 2)

    # -- records ----------------------------------------------------------------------------------------------------

    def _status(self, status: str, message: str | None = None, mark: str | None = None) -> None:
        try:
            with self.database.session() as session:
                triggers.record_status(session, self.trigger_id, status, message, mark)
        except Exception as error:  # a database that is away: the next look writes again
            log.warning("action=mail_watch_status outcome=error trigger=%s error=%s", self.trigger_id,
                        type(error).__name__)

    def _mail(self, mark: str) -> None:
        with self.database.session() as session:
            triggers.record_mail(session, self.trigger_id, mark)

    # -- watching ---------------------------------------------------------------------------------------------------

    def _watch(self) -> None:
        with self.database.session() as session:
            mailbox, password, mark, robot = triggers.watch_target(session, self.trigger_id, self.settings)
        address = parse_address(mailbox.url)
        if address.scheme == "maildir":
            self._watch_maildir(address, mailbox.folder, mark, robot)
            return
        if address.scheme not in ("imap", "imaps"):
            raise ControlRoomError(f"'{address.url}' ist kein Postfach zum Lesen (erwartet: imap://, imaps:// oder "
                                   "maildir:).")
        from rathaus.mail.imap import ImapBackend

        backend = ImapBackend(address, password or "", ca_file=mailbox.ca_file, timeout=30)
        try:
            self._connected = True
            self._watch_imap(backend, mailbox.folder, mark)
        finally:
            backend.close()

    def _watch_imap(self, backend, folder: str, mark: str | None) -> None:
        push = backend.can_idle
        status = "idle" if push else "polling"
        looked = 0.0
        while not self.stopped:
            validity, uidnext, messages = backend.folder_mark(folder)
            new = f"{validity}:{uidnext}"
            if arrived(mark, validity, uidnext, messages):
                self._mail(new)
                self._status(status, None)
                looked = time.monotonic()
            elif new != mark or time.monotonic() - looked >= STATUS_EVERY_S:
                self._status(status, None, new)
                looked = time.monotonic()
            mark = new
            if push:
                backend.wait_for_mail(folder, IDLE_RENEW_S, lambda: self.stopped)
            else:
                self._stop.wait(self.poll_s)

    def _watch_maildir(self, address: MailboxAddress, folder: str, mark: str | None, robot: str) -> None:
        from rathaus.mail.maildir import MaildirBackend

        root = triggers.local_maildir(self.settings, robot, Path(address.path))
        backend = MaildirBackend(MailboxAddress("maildir", path=root))
        self._connected = True
        times = backend.mail_times(folder)
        newest = max(times.values(), default=0)
        stored = int(mark) if (mark or "").isdigit() else None
        if (stored is None and times) or (stored is not None and newest > stored):
            self._mail(str(newest))
        self._status("polling", None, str(max(newest, stored or 0)))
        known, looked = set(times), time.monotonic()
        while not self._stop.wait(self.poll_s):
            times = backend.mail_times(folder)
            if set(times) - known:
                self._mail(str(max(times.values())))
                self._status("polling", None)
                looked = time.monotonic()
            elif time.monotonic() - looked >= STATUS_EVERY_S:
                self._status("polling", None)
                looked = time.monotonic()
            known = set(times)


def start_mail_watchers(database: Database, settings: Settings, stop_event: threading.Event,
                        interval_s: float = 10.0) -> threading.Thread:
    """Start the thread that keeps one :class:`TriggerWatch` per unpaused trigger; ``stop_event`` ends them all.

    It looks at the triggers when one was changed in this process and at the latest every ``interval_s`` (changes
    made by another control-room instance).
    """

    def loop() -> None:
        watches: dict[int, TriggerWatch] = {}
        log.info("action=start_mail_watchers")
        while not stop_event.is_set():
            try:
                with database.session() as session:
                    wanted = dict(triggers.watched(session))
            except Exception as error:  # the database is away: keep the watchers, look again
                log.error("action=mail_watchers outcome=error error=%s", type(error).__name__)
                wanted = {key: watch.poll_s for key, watch in watches.items()}
            for key in [key for key, watch in watches.items()
                        if wanted.get(key) != watch.poll_s or not watch.is_alive()]:
                watches.pop(key).stop()
            for key, poll_s in wanted.items():
                if key not in watches:
                    watches[key] = TriggerWatch(database, settings, key, poll_s)
                    watches[key].start()
            deadline = time.monotonic() + interval_s
            while not stop_event.is_set() and (remaining := deadline - time.monotonic()) > 0:
                if signals.TRIGGERS_CHANGED.wait(min(remaining, 0.5)):
                    break
        for watch in watches.values():
            watch.stop()
        log.info("action=stop_mail_watchers")

    thread = threading.Thread(target=loop, name="rathaus-postfaecher", daemon=True)
    thread.start()
    return thread
