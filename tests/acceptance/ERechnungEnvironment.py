"""Real systems around the e-invoice robot for its acceptance suite: Dovecot, an SMTP server, the archive.

The robot runs exactly as a city runs it, through ``rathaus run <city>/e-rechnung``; ``rathaus run`` starts
the sandbox finance system itself. Afterwards this library reads the finance system's entries through the
sandbox's own JSON API (the Flask app on the run's database), the archive folder, the SMTP server's mails
and the Maildirs of the mailbox.
"""

from __future__ import annotations

import base64
import email
import email.policy
import email.utils
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from robot.api.deco import keyword, library

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "processes")]

from erechnung.samples import sample_generator as _generator  # noqa: E402
from support import robots  # noqa: E402
from support.dovecot import Dovecot, free_port  # noqa: E402
from support.smtp import SmtpServer  # noqa: E402

USER = "rechnung"
MAIL_PASSWORD_VARIABLE = "ACCEPTANCE_RECHNUNG_POSTFACH_PASSWORT"


@library(scope="SUITE", auto_keywords=False)
class ERechnungEnvironment:
    """Starts Dovecot and an SMTP server, delivers sample invoices, runs the robot, reads the results."""

    def __init__(self) -> None:
        self.dovecot: Dovecot | None = None
        self.smtp: SmtpServer | None = None
        self.servers: list[Any] = []
        self._home: Path | None = None
        self.samples: list[Path] = []
        self.city = "fulda"
        self.last_output = ""

    @property
    def home(self) -> Path:
        """RATHAUS_HOME of the runs: a temporary folder, made on first use."""
        if self._home is None:
            self._home = Path(tempfile.mkdtemp(prefix="rathaus-erechnung-"))
        return self._home

    # -- servers ---------------------------------------------------------------------------------------

    @keyword
    def start_mail_servers(self) -> None:
        """Starts Dovecot (IMAP with STARTTLS) with the user ``rechnung`` and an SMTP server."""
        self.dovecot = Dovecot(users={USER: "Rechnung-Postfach-4711"}).start()
        self.smtp = SmtpServer().start()

    @keyword
    def stop_everything(self) -> None:
        """Stops the servers and removes the temporary folders."""
        for server in self.servers:
            server.shutdown()
        if self.smtp:
            self.smtp.stop()
        if self.dovecot:
            self.dovecot.stop()
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)

    @keyword
    def start_separate_finanzsystem(self, user: str, password: str) -> str:
        """Serves a sandbox finance system of its own (own database, one user); returns its URL."""
        from rathaus_sandbox.finanzen import create_app
        from werkzeug.serving import make_server

        app = create_app({"database": self.home / "separat.sqlite", "users": {user: password}})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    @keyword
    def url_where_nothing_listens(self) -> str:
        """An http URL on a free local port that no server listens on."""
        return f"http://127.0.0.1:{free_port()}/"

    # -- mails in --------------------------------------------------------------------------------------

    @keyword
    def deliver_sample_invoices(self, city: str = "fulda") -> int:
        """Generates the process's sample mails for ``city`` and delivers them into the inbox; returns the count."""
        self.city = city
        self.samples = _generator().generate(self.home / "beispiele", city)
        robots.deliver(self.dovecot, USER, self.samples)
        return len(self.samples)

    @keyword
    def deliver_samples_again(self) -> None:
        """Delivers the same sample mails (same Message-IDs) into the inbox once more."""
        robots.deliver(self.dovecot, USER, self.samples)

    @keyword
    def deliver_invoice_with_oversized_enclosure(self, key: str, size_mb: float) -> str:
        """Delivers a copy of the sample mail ``key`` under a new Message-ID, with an extra scanned
        enclosure of ``size_mb`` MB; returns the new Message-ID."""
        source = next((path for path in self.samples if key in path.name), None)
        if source is None:
            raise AssertionError(f"No sample named '{key}'.")
        mail = email.message_from_bytes(source.read_bytes(), policy=email.policy.default)
        message_id = email.utils.make_msgid("uebergross", domain="lieferant.example")
        mail.replace_header("Message-ID", message_id)
        if not mail.is_multipart():
            mail.make_mixed()
        scan = b"%PDF-1.4\n" + os.urandom(int(float(size_mb) * 1_000_000)) + b"\n%%EOF\n"
        mail.add_attachment(scan, maintype="application", subtype="pdf", filename="Lieferschein_Scan.pdf")
        self.dovecot.deliver(USER, "INBOX", mail.as_bytes())
        return message_id

    @keyword
    def deliver_sample_under_new_message_id(self, key: str) -> str:
        """Delivers a copy of the sample mail ``key`` under a new Message-ID; returns it."""
        source = next((path for path in self.samples if key in path.name), None)
        if source is None:
            raise AssertionError(f"No sample named '{key}'.")
        mail = email.message_from_bytes(source.read_bytes(), policy=email.policy.default)
        message_id = email.utils.make_msgid("amtlich", domain="lieferant.example")
        mail.replace_header("Message-ID", message_id)
        self.dovecot.deliver(USER, "INBOX", mail.as_bytes())
        return message_id

    @keyword
    def deliver_deeply_nested_mail(self, levels: int = 5000) -> str:
        """Delivers a mail whose parts are nested ``levels`` deep (multipart in multipart ...); returns its id."""
        message_id = email.utils.make_msgid("tief", domain="angreifer.example")
        body = b"Content-Type: text/plain\r\n\r\nRechnung anbei\r\n"
        for level in range(int(levels)):
            boundary = b"b%d" % level
            body = (b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--' + boundary + b"\r\n"
                    + body + b"\r\n--" + boundary + b"--\r\n")
        head = (f"From: rechnung@angreifer.example\r\nTo: rechnung@fulda.de\r\nSubject: Rechnung\r\n"
                f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n").encode()
        self.dovecot.deliver(USER, "INBOX", head + body)
        return message_id

    @keyword
    def expected_outcomes(self) -> list[dict[str, Any]]:
        """The generator's ``erwartet.json``: per sample mail what the robot should make of it."""
        return json.loads((self.home / "beispiele" / "erwartet.json").read_text(encoding="utf-8"))

    @keyword
    def sample_message_id(self, key: str) -> str:
        """The Message-ID of the sample mail whose file name contains ``key``."""
        return robots.sample_message_id(self.samples, key)

    @keyword
    def sample_attachment_sha256(self, key: str, name: str) -> str:
        """The SHA-256 of the attachment ``name`` of the sample mail whose file name contains ``key``."""
        for path in self.samples:
            if key in path.name:
                mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for part in mail.iter_attachments():
                    if part.get_filename() == name:
                        return hashlib.sha256(part.get_content()).hexdigest()
        raise AssertionError(f"No attachment '{name}' in sample '{key}'.")

    # -- the robot -------------------------------------------------------------------------------------

    @keyword
    def run_city_robot(self, robot: str, expected_rc: int = 0, **overrides: Any) -> str:
        """Runs ``rathaus run <robot>`` against the test mail servers; returns its console output.

        Keyword arguments override config keys given as ``section__key=value``; ``env__NAME=value`` sets
        an environment variable of the run.
        """
        config, env = robots.mailbox_settings(self.dovecot, USER, MAIL_PASSWORD_VARIABLE, self.smtp)
        self.last_output = robots.run_city_robot(robot, self.home, expected_rc=expected_rc, config=config, env=env,
                                                 overrides=overrides)
        return self.last_output

    @keyword
    def output_xml_of_last_run(self) -> Path:
        """The merged ``output.xml`` of the last run (beside the ``log.html`` it printed)."""
        return robots.output_xml(self.last_output)

    @keyword
    def forget_work_item_queue(self, robot: str = "fulda/e-rechnung") -> None:
        """Deletes the robot's local work item queue, as if its machine had been replaced."""
        robots.forget_work_item_queue(self.home / robot)

    # -- uploaded cases (what the control room puts into the queue) ------------------------------------

    @keyword
    def write_sample_invoice(self, name: str, number: str, area: str = "schulen", fmt: str = "ubl",
                             **changes: Any) -> Path:
        """Writes a sample invoice of the generator (supplier ``buero``) to the office of ``area`` as ``name``.

        ``fmt`` is ``ubl``, ``cii`` or ``zugferd``; keyword arguments change the invoice, e.g. ``leitweg_id=…``,
        ``gross_error=100.00`` (an arithmetic error). ``broken=yes`` cuts the file short (not well-formed)."""
        import random
        from decimal import Decimal

        generator = _generator()
        broken = str(changes.pop("broken", "")).lower() in ("yes", "true", "1")
        if "gross_error" in changes:
            changes["gross_error"] = Decimal(str(changes["gross_error"]))
        invoice = generator._invoice(generator.load_city(self.city), generator.SUPPLIERS["buero"], area, number, 20,
                                     random.Random(number), **changes)
        data = {"ubl": generator.ubl_xml, "cii": generator.cii_xml, "zugferd": generator.zugferd_pdf}[fmt](invoice)
        path = self.home / "uploads" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data[: len(data) * 2 // 3] if broken else data)
        return path

    def _queue(self, robot: str) -> Any:
        from rathaus.workitems.queue import open_queue

        return open_queue(self.home / robot / "workitems.sqlite", output_queue=robot, input_queue=robot)

    @keyword
    def queue_uploaded_case(self, reference: str, *files: str, robot: str = "fulda/e-rechnung",
                            **variables: Any) -> str:
        """Puts an uploaded case into the robot's queue as the robot sees one the control room made of a loose
        file: ``quelle: upload``, ``referenz`` and the files, no ``message_id``, ``absender`` or ``eingang``;
        more ``variables`` can be given. Returns the item's id."""
        paths = {Path(f).name: Path(f) for f in files}
        payload = {"quelle": "upload", "referenz": reference, **variables}
        queue = self._queue(robot)
        try:
            item_id, _created = queue.create_output(None, payload, key=reference, files=paths)
        finally:
            queue.close()
        return item_id

    @keyword
    def work_item(self, reference: str, robot: str = "fulda/e-rechnung") -> dict[str, Any]:
        """The robot's work item with the key ``reference``: ``status``, ``code``, ``message``, ``payload``,
        ``files``."""
        queue = self._queue(robot)
        try:
            item = next(i for i in queue.list_items(robot) if i.key == reference)
        finally:
            queue.close()
        return {"id": item.id, "status": item.status.value, "code": item.code, "message": item.message,
                "payload": item.payload, "files": list(item.files)}

    @keyword
    def correct_case_and_retry(self, reference: str, robot: str = "fulda/e-rechnung", **corrections: Any) -> None:
        """What a clerk's retry in the control room does: the case data ``fall`` with ``corrections``, the item
        back in the queue as new (written into the robot's SQLite queue, which has no retry of its own)."""
        import sqlite3

        item = self.work_item(reference, robot)
        payload = dict(item["payload"])
        payload["fall"] = {**payload["fall"], **corrections}
        with sqlite3.connect(self.home / robot / "workitems.sqlite") as conn:
            conn.execute("UPDATE items SET status = 'new', payload = ?, exception_type = NULL, code = NULL, "
                         "message = NULL, released_at = NULL WHERE id = ?",
                         (json.dumps(payload, ensure_ascii=False), int(item["id"])))

    @keyword
    def keyword_calls_in_last_run(self, name: str) -> list[str]:
        """The calls of the keyword ``name`` (e.g. ``Move Message``) that ran in the last run: for each, the
        keywords it was called from and its arguments (as written), as one line."""
        from robot.api import ExecutionResult

        calls: list[str] = []

        def visit(body: Any, path: tuple[str, ...]) -> None:
            for step in body:
                if getattr(step, "status", "") == "NOT RUN":  # an IF branch not taken, a loop without rounds
                    continue
                is_keyword = getattr(step, "type", None) == "KEYWORD"
                if is_keyword and name in (step.name, getattr(step, "full_name", None)):
                    calls.append(f"{' > '.join(path)}: {' | '.join(map(str, step.args))}")
                visit(getattr(step, "body", ()), (*path, step.name) if is_keyword else path)

        result = ExecutionResult(str(self.output_xml_of_last_run()))
        for test in result.suite.all_tests:
            visit(test.body, (test.name,))
        return calls

    # -- results ---------------------------------------------------------------------------------------

    @keyword
    def folder_count(self, folder: str) -> int:
        """Number of mails in a folder of the ``rechnung`` mailbox."""
        return robots.folder_count(self.dovecot, USER, folder)

    @keyword
    def finance_entries(self, robot: str = "fulda/e-rechnung") -> list[dict[str, Any]]:
        """All entries of the robot's sandbox finance system, read through the sandbox's JSON API."""
        from rathaus_sandbox.finanzen import create_app

        database = self.home / robot / "finanzsystem.sqlite"
        if not database.is_file():
            return []
        client = create_app({"database": database, "users": {"pruefer": "lesen"}}).test_client()
        token = base64.b64encode(b"pruefer:lesen").decode()
        response = client.get("/api/rechnungen", headers={"Authorization": f"Basic {token}"})
        if response.status_code != 200:
            raise AssertionError(f"GET /api/rechnungen answered {response.status_code}")
        data = response.get_json()
        return data["rechnungen"]

    @keyword
    def finance_entry(self, number: str, robot: str = "fulda/e-rechnung") -> dict[str, Any] | None:
        """The finance system's entry of the invoice ``number``, ``None`` when there is none."""
        return next((entry for entry in self.finance_entries(robot) if entry["rechnungsnummer"] == number), None)

    @keyword
    def archived_invoice(self, number: str, robot: str = "fulda/e-rechnung") -> dict[str, Any]:
        """The archive's record (``beleg.json`` as `Archived Invoices` gives it) of the invoice ``number``."""
        return next(record for record in self.archived_invoices(robot) if record["rechnungsnummer"] == number)

    @keyword
    def archived_invoices(self, robot: str = "fulda/e-rechnung") -> list[dict[str, Any]]:
        """Every ``beleg.json`` of the robot's archive, each with ``referenz`` and ``dateien`` (file names)."""
        root = self.home / robot / "archiv"
        records = []
        for sidecar in sorted(root.rglob("beleg.json")):
            record = json.loads(sidecar.read_text(encoding="utf-8"))
            record["referenz"] = sidecar.parent.relative_to(root).as_posix()
            record["dateien"] = sorted(p.name for p in sidecar.parent.iterdir())
            records.append(record)
        return records

    @keyword
    def archived_file_sha256(self, reference: str, name: str, robot: str = "fulda/e-rechnung") -> str:
        """The SHA-256 of a file in the archive folder ``reference``."""
        return hashlib.sha256((self.home / robot / "archiv" / reference / name).read_bytes()).hexdigest()

    @keyword
    def sent_mails(self) -> list[dict[str, Any]]:
        """The mails the SMTP server received: from, to, subject, in_reply_to and the text body."""
        return [{
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "in_reply_to": robots.one_line(msg["In-Reply-To"]),
            "body": msg.get_body(preferencelist=("plain",)).get_content(),
        } for msg in robots.parsed_mails(self.smtp.messages)]

    @keyword
    def replies_to(self, message_id: str) -> list[dict[str, Any]]:
        """The sent mails whose In-Reply-To is ``message_id``."""
        return [mail for mail in self.sent_mails() if mail["in_reply_to"] == message_id]
