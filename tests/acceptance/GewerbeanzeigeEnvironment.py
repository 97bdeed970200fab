"""Real systems around a city's trade-notice robot: Dovecot, an SMTP server and the sandbox Gewerberegister.

The robot runs exactly as a city runs it: through ``rathaus run <city>/gewerbeanzeige``. Before the first
run the register database gets the existing businesses (Bestand) the sample Ummeldung and Abmeldungen refer
to; afterwards its JSON API (the sandbox started once more on the same database) shows what the robot did.

What the control room does with a robot's work items is done here on the robot's local queue (its
``workitems.sqlite``): a clerk's correction of the case data and retry, the automatic retry of a technical
failure, a loose PDF uploaded as a case of its own (``quelle: upload``, ``referenz``, no mail).
"""

from __future__ import annotations

import base64
import json
import shutil
import sys
import tempfile
import urllib.request
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import yaml
from robot.api.deco import keyword, library

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "processes")]

from support import robots  # noqa: E402
from support.dovecot import Dovecot  # noqa: E402

MAILBOX_USER = "gewerbe"
MAIL_PASSWORD_VARIABLE = "ACCEPTANCE_GEWERBE_POSTFACH_PASSWORT"
#: the sample whose owner gave no e-mail address: uploaded as a loose PDF, its receipt must be posted
NO_ADDRESS_SAMPLE = "anmeldung-nebenerwerb"


@library(scope="SUITE", auto_keywords=False)
class GewerbeanzeigeEnvironment:
    """Starts Dovecot and an SMTP server, delivers sample notices, runs the robot, reads mails and the register."""

    def __init__(self, city: str = "offenbach") -> None:
        self.city = city
        self.robot = f"{city}/gewerbeanzeige"
        self.dovecot: Dovecot | None = None
        self.smtp: Any = None
        self.sandboxes: list[Any] = []
        self.home = Path(tempfile.mkdtemp(prefix="rathaus-gewerbe-acceptance-"))
        self.samples: list[Path] = []
        self.last_output = ""
        self.today = date.today()

    @property
    def register_database(self) -> Path:
        """The database of the sandbox register that ``rathaus run`` starts for the robot."""
        return self.home / self.city / "gewerbeanzeige" / "gewerberegister.sqlite"

    @property
    def queue_database(self) -> Path:
        """The robot's local work item queue (``rathaus run`` keeps it beside the register)."""
        return self.home / self.city / "gewerbeanzeige" / "workitems.sqlite"

    @keyword
    def start_mail_servers(self) -> None:
        """Starts Dovecot (IMAP with STARTTLS) with the user ``gewerbe`` and an SMTP server."""
        from support.smtp import SmtpServer

        self.dovecot = Dovecot(users={MAILBOX_USER: "Gewerbe-Passwort-4711"}).start()
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
    def deliver_sample_notices(self) -> int:
        """Generates the process's sample notices, delivers them into the inbox and writes the Bestand into
        the register database; returns the number of mails."""
        from gewerbeanzeige.samples.generate import generate, seed_register

        self.samples = generate(self.home / "beispiele", self.city, today=self.today)
        robots.deliver(self.dovecot, MAILBOX_USER, self.samples)
        seed_register(self.register_database, self.city, today=self.today)
        return len(self.samples)

    @keyword
    def deliver_samples_again(self) -> None:
        """Delivers the same sample mails (same Message-IDs) into the inbox once more."""
        robots.deliver(self.dovecot, MAILBOX_USER, self.samples)

    @keyword
    def forget_work_item_queue(self) -> None:
        """Deletes the robot's local work item queue, as if its machine had been replaced."""
        robots.forget_work_item_queue(self.home / self.robot)

    @keyword
    def start_separate_register(self, password: str) -> str:
        """Starts a sandbox register of its own with the robot's user and ``password``; returns its URL."""
        from rathaus_sandbox.server import spawn_sandbox

        sandbox = spawn_sandbox(app="gewerberegister", database=self.home / "separat.sqlite",
                                users={f"robot.{self.city}": password})
        self.sandboxes.append(sandbox)
        return sandbox.url

    @keyword
    def run_city_robot(self, expected_rc: int = 0, **overrides: Any) -> str:
        """Runs ``rathaus run <city>/gewerbeanzeige`` against the test mail servers; returns its console output.

        Keyword arguments override config keys given as ``section__key=value``; ``env__NAME=value`` sets
        an environment variable of the run.
        """
        config, env = robots.mailbox_settings(self.dovecot, MAILBOX_USER, MAIL_PASSWORD_VARIABLE, self.smtp)
        self.last_output = robots.run_city_robot(self.robot, self.home, expected_rc=expected_rc, config=config,
                                                 env=env, overrides=overrides)
        return self.last_output

    @keyword
    def output_xml_of_last_run(self) -> str:
        """The text of the merged ``output.xml`` of the last run (beside the printed ``log.html``)."""
        return robots.output_xml(self.last_output).read_text(encoding="utf-8")

    @keyword
    def folder_count(self, folder: str) -> int:
        """Number of mails in a folder of the ``gewerbe`` mailbox (0 for a folder that does not exist)."""
        return robots.folder_count(self.dovecot, MAILBOX_USER, folder)

    @keyword
    def register_entries(self) -> list[dict[str, Any]]:
        """Every entry of the robot's register with its Vorgänge, read through the sandbox's JSON API."""
        from rathaus_sandbox.server import spawn_sandbox

        with spawn_sandbox(app="gewerberegister", database=self.register_database,
                           users={"pruefung": "Pruefung-123"}) as sandbox:
            request = urllib.request.Request(sandbox.url + "api/betriebe")
            request.add_header("Authorization", "Basic " + base64.b64encode(b"pruefung:Pruefung-123").decode())
            with urllib.request.urlopen(request, timeout=10) as response:
                data = json.loads(response.read().decode("utf-8"))
        return data["betriebe"]

    def _messages(self) -> list[EmailMessage]:
        return robots.parsed_mails(self.smtp.messages)

    @keyword
    def sent_mails(self) -> list[dict[str, Any]]:
        """The mails the SMTP server received: to, subject, in_reply_to, text, attachment names."""
        mails = []
        for msg in self._messages():
            body = msg.get_body(("plain",))
            mails.append({
                "to": str(msg["To"]),
                "subject": str(msg["Subject"]),
                "in_reply_to": robots.one_line(msg["In-Reply-To"]),
                "text": body.get_content() if body else "",
                "attachments": [part.get_filename() for part in msg.iter_attachments()],
            })
        return mails

    @keyword
    def notification_recipients(self, registernummer: str) -> list[str]:
        """Addresses of the notifications (not receipts) whose subject names ``registernummer``."""
        return sorted(m["to"] for m in self.sent_mails() if not m["in_reply_to"] and registernummer in m["subject"]
                      and not m["subject"].startswith("Empfangsbescheinigung"))

    @keyword
    def notification_to(self, body: str, registernummer: str) -> dict[str, Any]:
        """The one notification to the body ``body`` (key in ``gewerbe.yaml``) about ``registernummer``."""
        address = self.body_address(body)
        matches = [m for m in self.sent_mails() if m["to"] == address and registernummer in m["subject"]]
        if len(matches) != 1:
            raise AssertionError(f"{len(matches)} notifications to {address} about {registernummer}, expected one.")
        return matches[0]

    @keyword
    def receipt_to(self, message_id: str) -> dict[str, Any]:
        """The one reply to ``message_id``, with the text of its attached receipt (PDF or Word) as ``letter``."""
        matches = [m for m in self._messages() if robots.one_line(m["In-Reply-To"]) == message_id]
        if len(matches) != 1:
            raise AssertionError(f"{len(matches)} replies to {message_id}, expected one.")
        msg = matches[0]
        attachment = next(msg.iter_attachments())
        target = self.home / "empfang" / attachment.get_filename()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(attachment.get_content())
        letter = robots.letter_text(target)
        # the letter's text with line breaks as blanks: a name may wrap at the end of a line
        return {"to": str(msg["To"]), "subject": str(msg["Subject"]), "file": target.name,
                "letter": " ".join(letter.split())}

    @keyword
    def sample_message_id(self, key: str) -> str:
        """The Message-ID of the sample mail whose file name contains ``key``."""
        return robots.sample_message_id(self.samples, key)

    @keyword
    def personal_data_of_samples(self) -> list[str]:
        """Names, birth dates and home streets of the sample owners: none of them may appear in a log."""
        from gewerbeanzeige.samples.generate import samples

        found: set[str] = set()
        for sample in samples(self.city, today=self.today):
            for key in ("inhaber.name", "inhaber.vorname", "inhaber.geburtsdatum", "inhaber.strasse"):
                value = sample.values.get(key)
                if value:
                    found.add(str(value))
        return sorted(found)

    @keyword
    def body_address(self, key: str) -> str:
        """The mail address of a body (``ihk``, ``hwk``, ...) in the city's ``gewerbe.yaml``."""
        data = yaml.safe_load((ROOT / "resources" / "cities" / self.city / "gewerbe.yaml").read_text(encoding="utf-8"))
        return data["empfaenger"][key]["email"]

    # -- what the control room does with work items, on the robot's local queue --------------------------------

    @keyword
    def work_item(self, key: str) -> dict[str, Any]:
        """The work item with ``key`` (a Message-ID or an upload's reference): status, code, message, payload, files."""
        return robots.work_item(self.queue_database, self.robot, key)

    @keyword
    def correct_case_and_retry(self, key: str, **changes: str) -> None:
        """Does what a clerk's ``POST /api/items/{id}/retry`` with corrected case data does: sets the entries
        ``group.key=value`` of the item's ``fall`` and puts the item back into the queue as new."""
        def correct(payload: dict[str, Any]) -> None:
            for name, value in changes.items():
                group, _, entry = name.partition(".")
                payload["fall"].setdefault(group, {})[entry] = value

        robots.requeue(self.queue_database, self.robot, key, correct)

    @keyword
    def retry_work_item(self, key: str) -> None:
        """Puts a failed item back into the queue as new with its payload, as the control room's automatic
        retry of a technical failure does."""
        robots.requeue(self.queue_database, self.robot, key)

    @keyword
    def upload_notice(self, reference: str, business: str = "", case_data: Any = None) -> None:
        """Puts a loose PDF into the robot's queue as the control room makes a case of it: ``quelle: upload``,
        ``referenz``, the file, and no ``message_id``, ``absender`` or ``eingang``.

        The PDF is the GewA1 of the sample whose owner gave no e-mail address, for the business ``business``
        (a new one, so that it is entered). ``case_data`` is put into the item as its ``fall`` as it is.
        """
        from gewerbeanzeige.samples.generate import FORMS, PDF_TITLES, samples
        from rathaus.workitems.queue import open_queue
        from rathaus_sandbox.pdfforms import build_form

        (sample,) = [s for s in samples(self.city, today=self.today) if s.key == NO_ADDRESS_SAMPLE]
        values = {**sample.values, "betrieb.name": business or sample.values["betrieb.name"]}
        folder = self.home / "uploads" / reference
        folder.mkdir(parents=True, exist_ok=True)
        pdf = build_form(folder / "GewA1_Gewerbeanmeldung.pdf", PDF_TITLES[sample.form], FORMS[sample.form], values)
        payload: dict[str, Any] = {"quelle": "upload", "referenz": reference, "dateien": [pdf.name]}
        if case_data is not None:
            payload["fall"] = case_data
        queue = open_queue(self.queue_database, output_queue=self.robot)
        queue.create_output(None, payload, key=reference, files={pdf.name: pdf})

    @keyword
    def unexpected_failures(self, key: str) -> int:
        """How often the case ``key`` failed unexpectedly in a row, from the robot's ledger."""
        from rathaus.process.failures import FailureLedger

        return FailureLedger(self.home / self.city / "gewerbeanzeige" / "fehlversuche.json").count(key)
