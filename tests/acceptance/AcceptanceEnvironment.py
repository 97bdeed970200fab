"""Real systems around a city robot for the acceptance suites: Dovecot, an SMTP server, a sandbox.

The robot itself runs exactly as a city runs it: through ``rathaus run <city>/<process>``.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from robot.api.deco import keyword, library

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "processes")]

from support import robots  # noqa: E402
from support.dovecot import Dovecot, free_port  # noqa: E402
from support.smtp import SmtpServer  # noqa: E402

MAIL_PASSWORD_VARIABLE = "ACCEPTANCE_UVG_POSTFACH_PASSWORT"


@library(scope="SUITE", auto_keywords=False)
class AcceptanceEnvironment:
    """Starts Dovecot and an SMTP server, delivers sample applications, runs city robots, reads results."""

    def __init__(self) -> None:
        self.dovecot: Dovecot | None = None
        self.smtp: SmtpServer | None = None
        self.sandboxes: list[Any] = []
        self.home = Path(tempfile.mkdtemp(prefix="rathaus-acceptance-"))
        self.samples: list[Path] = []
        self.last_output = ""

    @keyword
    def start_mail_servers(self) -> None:
        """Starts Dovecot (IMAP with STARTTLS) with user ``uvg`` and an SMTP server."""
        self.dovecot = Dovecot().start()
        self.smtp = SmtpServer().start()

    @keyword
    def stop_everything(self) -> None:
        """Stops the servers and removes the temporary folders."""
        for sandbox in self.sandboxes:
            sandbox.stop()
        if self.smtp:
            self.smtp.stop()
        if self.dovecot:
            self.dovecot.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    @keyword
    def deliver_sample_applications(self, good: int = 4) -> int:
        """Generates the process's sample applications and delivers them into the inbox; returns the count."""
        from unterhaltsvorschuss.samples.generate import generate

        self.samples = generate(self.home / "beispiele", good=good)
        robots.deliver(self.dovecot, "uvg", self.samples)
        return len(self.samples)

    @keyword
    def deliver_samples_again(self) -> None:
        """Delivers the same sample mails (same Message-IDs) into the inbox once more."""
        robots.deliver(self.dovecot, "uvg", self.samples)

    @keyword
    def forget_work_item_queue(self, robot: str = "giessen/unterhaltsvorschuss") -> None:
        """Deletes the robot's local work item queue, as if its machine had been replaced."""
        robots.forget_work_item_queue(self.home / robot)

    @keyword
    def start_separate_fachverfahren(self, password: str) -> str:
        """Starts a sandbox Fachverfahren of its own with user ``robot.giessen``; returns its URL."""
        from rathaus_sandbox.server import start_sandbox

        sandbox = start_sandbox({"database": str(self.home / "separat.sqlite"),
                                 "users": {"robot.giessen": password}})
        self.sandboxes.append(sandbox)
        return sandbox.url

    @keyword
    def run_city_robot(self, robot: str, expected_rc: int = 0, **overrides: Any) -> str:
        """Runs ``rathaus run <robot>`` against the test mail servers; returns its console output.

        Keyword arguments override config keys given as ``section__key=value``; ``env__NAME=value`` sets
        an environment variable of the run.
        """
        config, env = robots.mailbox_settings(self.dovecot, "uvg", MAIL_PASSWORD_VARIABLE, self.smtp)
        self.last_output = robots.run_city_robot(robot, self.home, expected_rc=expected_rc, config=config, env=env,
                                                 overrides=overrides)
        return self.last_output

    @keyword
    def log_file_of_last_run(self) -> Path:
        """The ``log.html`` path that the last run printed; fails when it is missing or not absolute."""
        return robots.log_file(self.last_output)

    @keyword
    def folder_count(self, folder: str) -> int:
        """Number of mails in a folder of the ``uvg`` mailbox."""
        return robots.folder_count(self.dovecot, "uvg", folder)

    @keyword
    def fachverfahren_cases(self, robot: str = "giessen/unterhaltsvorschuss") -> list[dict[str, Any]]:
        """All cases in the robot's embedded sandbox Fachverfahren's database."""
        database = self.home / robot / "fachverfahren.sqlite"
        with sqlite3.connect(database) as con:
            con.row_factory = sqlite3.Row
            rows = [dict(row) for row in con.execute("SELECT * FROM faelle ORDER BY id")]
        con.close()
        return rows

    @keyword
    def sent_replies(self) -> list[dict[str, Any]]:
        """The mails the SMTP server received: to, subject, in_reply_to, attachment names."""
        return [{
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "in_reply_to": robots.one_line(msg["In-Reply-To"]),
            "attachments": [part.get_filename() for part in msg.iter_attachments()],
        } for msg in robots.parsed_mails(self.smtp.messages)]

    @keyword
    def reply_to(self, message_id: str) -> dict[str, Any]:
        """The one reply whose In-Reply-To is ``message_id``."""
        matches = [reply for reply in self.sent_replies() if reply["in_reply_to"] == message_id]
        if len(matches) != 1:
            raise AssertionError(f"{len(matches)} replies to {message_id}, expected one.")
        return matches[0]

    @keyword
    def url_where_nothing_listens(self) -> str:
        """An http URL on a free local port that no server listens on."""
        return f"http://127.0.0.1:{free_port()}"

    @keyword
    def sample_message_id(self, key: str) -> str:
        """The Message-ID of the sample mail whose file name contains ``key``."""
        return robots.sample_message_id(self.samples, key)

    # -- the robot's local work item queue, as the control room would change it ---------------------------------

    def _queue(self, robot: str) -> Path:
        return self.home / robot / "workitems.sqlite"

    @keyword
    def upload_sample_application(self, key: str, reference: str, case_data: Any = None,
                                  robot: str = "giessen/unterhaltsvorschuss") -> str:
        """Puts the sample mail whose file name contains ``key`` into the robot's queue as the control room makes
        an uploaded ``.eml`` a case (``quelle: upload``), under the Message-ID ``<reference>``; ``case_data`` is
        put into the item as its ``fall`` as it is. Returns the item's key."""
        from email import message_from_bytes, policy

        from rathaus.mail.intake import mail_case, read_mail_file
        from rathaus.workitems.queue import open_queue

        [sample] = [path for path in self.samples if key in path.name]
        mail = message_from_bytes(sample.read_bytes(), policy=policy.default)
        mail.replace_header("Message-ID", f"<{reference}>")
        case = mail_case(read_mail_file(sample.name, mail.as_bytes()), source="upload")
        folder = self.home / "uploads" / reference
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for name, content in case.files:
            (folder / name).write_bytes(content)
            files[name] = folder / name
        payload = {**case.variables, "dateien": case.file_names, "referenz": case.key}
        if case_data is not None:
            payload["fall"] = case_data
        open_queue(self._queue(robot), output_queue=robot).create_output(None, payload, key=case.key, files=files)
        return case.key

    @keyword
    def work_item(self, key: str, robot: str = "giessen/unterhaltsvorschuss") -> dict[str, Any]:
        """The work item with ``key`` in the robot's local queue: status, code, message, payload, files."""
        return robots.work_item(self._queue(robot), robot, key)

    @keyword
    def retry_work_item(self, key: str, robot: str = "giessen/unterhaltsvorschuss") -> None:
        """Puts a failed item back into the queue as new, as the control room's retry does."""
        robots.requeue(self._queue(robot), robot, key)

    @keyword
    def unexpected_failures(self, key: str, robot: str = "giessen/unterhaltsvorschuss") -> int:
        """How often the case ``key`` failed unexpectedly in a row, from the robot's ledger."""
        from rathaus.process.failures import FailureLedger

        return FailureLedger(self.home / robot / "fehlversuche.json").count(key)

    @keyword
    def letters_of_last_run(self) -> list[Path]:
        """The letters written in the last run."""
        run = self.log_file_of_last_run().parent
        return sorted((run / "schritt-2" / "briefe").glob("*.pdf"))

    @keyword
    def letter_text(self, path: Path) -> str:
        """The text of a letter (PDF or Word)."""
        return robots.letter_text(path)
