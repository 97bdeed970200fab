"""Run a city robot as a city runs it (``rathaus run``) and read what it left: for the acceptance libraries.

The acceptance environments (``tests/acceptance/*Environment.py``) keep their own Robot keywords; the work
those keywords share lives here: the mailbox part of the runtime configuration, the run itself with
``section__key=value`` overrides, the ``Protokoll:`` line of its output, sample Message-IDs, letter texts.
"""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import yaml
from robot.api import logger

ROOT = Path(__file__).resolve().parents[2]


def one_line(value: Any) -> str:
    """A header value without any white space (folded Message-IDs), ``""`` for a missing header."""
    return "".join(str(value or "").split())


def mailbox_settings(dovecot: Any, user: str, password_variable: str,
                     smtp: Any = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The config overrides (``postfach`` with STARTTLS and the test CA, ``versand`` when ``smtp`` is given)
    and the environment (the mailbox password) that point a robot at the test mail servers."""
    config: dict[str, Any] = {
        "postfach": {"url": dovecot.url(user, tls="starttls"), "passwort_variable": password_variable,
                     "ca_datei": str(dovecot.cert_file)},
    }
    if smtp is not None:
        config["versand"] = {"smtp": smtp.url}
    return config, {password_variable: dovecot.users[user]}


def run_city_robot(robot: str, home: Path, *, expected_rc: int | str = 0, config: dict[str, Any] | None = None,
                   env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None,
                   timeout: float = 600) -> str:
    """Runs ``rathaus run <robot>`` with ``RATHAUS_HOME=home``; returns stdout and stderr together.

    ``overrides`` are ``section__key=value`` (set in the runtime configuration ``config``, written to
    ``home/override.yaml`` and passed with ``--config``) or ``env__NAME=value`` (an environment variable
    of the run). Without ``config`` and config overrides no ``--config`` is passed. Fails unless the
    exit code is ``expected_rc``.
    """
    config = {section: dict(values) for section, values in (config or {}).items()}
    run_env = {**os.environ, "RATHAUS_HOME": str(home), **(env or {})}
    for name, value in (overrides or {}).items():
        section, _, key = name.partition("__")
        if section == "env":
            run_env[key] = value
        else:
            config.setdefault(section, {})[key] = value
    command = [str(Path(sys.executable).parent / "rathaus"), "run", robot]
    if config:
        override = home / "override.yaml"
        override.write_text(yaml.safe_dump(config), encoding="utf-8")
        command += ["--config", str(override)]
    command += ["--output", str(home / "output")]
    result = subprocess.run(command, capture_output=True, text=True, env=run_env, cwd=ROOT, timeout=timeout,
                            check=False)
    output = result.stdout + result.stderr
    logger.info(output)
    if result.returncode != int(expected_rc):
        raise AssertionError(f"rathaus run exited {result.returncode}, expected {expected_rc}:\n{output}")
    return output


def log_file(output: str) -> Path:
    """The ``log.html`` named by the ``Protokoll:`` line of a run's output; fails unless it is an existing
    absolute path."""
    for line in output.splitlines():
        if line.startswith("Protokoll: "):
            path = Path(line.removeprefix("Protokoll: ").strip())
            if not path.is_absolute() or not path.is_file():
                raise AssertionError(f"Log '{path}' is not an existing absolute path.")
            return path
    raise AssertionError("The run printed no 'Protokoll:' line.")


def output_xml(output: str) -> Path:
    """The merged ``output.xml`` beside the ``log.html`` of a run's output."""
    return log_file(output).parent / "output.xml"


def deliver(dovecot: Any, user: str, paths: Iterable[Path], folder: str = "INBOX") -> None:
    """Delivers the mail files into a folder of ``user``'s mailbox."""
    for path in paths:
        dovecot.deliver(user, folder, Path(path).read_bytes())


def folder_count(dovecot: Any, user: str, folder: str) -> int:
    """Number of mails in a folder of ``user``'s mailbox, 0 for a folder that does not exist."""
    return dovecot.count(user, folder) if folder in ("INBOX", *dovecot.folders(user)) else 0


def forget_work_item_queue(folder: Path) -> None:
    """Deletes a robot's local work item queue, as if its machine had been replaced."""
    for path in Path(folder).glob("workitems.sqlite*"):
        path.unlink()


def sample_message_id(samples: Iterable[Path], key: str) -> str:
    """The Message-ID of the sample mail whose file name contains ``key``."""
    for path in samples:
        if key in path.name:
            return one_line(email.message_from_bytes(path.read_bytes())["Message-ID"])
    raise AssertionError(f"No sample named '{key}'.")


def parsed_mails(raw_mails: Iterable[bytes]) -> list[EmailMessage]:
    """Raw mails (e.g. the SMTP server's ``messages``) as :class:`EmailMessage` objects."""
    return [email.message_from_bytes(raw, policy=email.policy.default) for raw in raw_mails]


def letter_text(path: Path) -> str:
    """The text of a letter, PDF or Word."""
    path = Path(path)
    if path.suffix == ".pdf":
        from rathaus.pdf.reader import read_text

        return "\n".join(read_text(path).values())
    from rathaus import Documents

    return Documents().get_letter_text(path)


# --- a robot's local work item queue (``workitems.sqlite`` beside its systems) ---------------------------------

def _item_row(conn: Any, queue: str, key: str) -> Any:
    rows = conn.execute("SELECT * FROM items WHERE queue = ? AND key = ?", (queue, key)).fetchall()
    if len(rows) != 1:
        raise AssertionError(f"{len(rows)} work items with key {key!r} in {queue}, expected one.")
    return rows[0]


def work_item(database: Path, queue: str, key: str) -> dict[str, Any]:
    """The work item with ``key`` (a Message-ID or an upload's reference): status, code, message, payload, files."""
    import json
    import sqlite3

    from rathaus.workitems.queue import open_queue

    with sqlite3.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        row = _item_row(conn, queue, key)
    files = open_queue(database).list_files(str(row["id"]))
    return {"id": str(row["id"]), "status": row["status"], "code": row["code"], "message": row["message"],
            "payload": json.loads(row["payload"]), "files": files}


def requeue(database: Path, queue: str, key: str, change: Any = None) -> None:
    """Puts a handled item back into the queue as new, as the control room's retry does; ``change(payload)``
    may correct its payload first (a clerk's correction of the case data)."""
    import json
    import sqlite3

    with sqlite3.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        row = _item_row(conn, queue, key)
        payload = json.loads(row["payload"])
        if change is not None:
            change(payload)
        conn.execute("UPDATE items SET status = 'new', payload = ?, exception_type = NULL, code = NULL, "
                     "message = NULL, runner = NULL, lease_until = NULL WHERE id = ?",
                     (json.dumps(payload, ensure_ascii=False), row["id"]))
