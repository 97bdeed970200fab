"""Real systems around the mail room robot for its acceptance suite: a Dovecot with the general mailbox.

The robot runs exactly as a city runs it, through ``rathaus run <city>/posteingang``; this library only
prepares the mailbox, starts the run and reads what ended up where.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from robot.api.deco import keyword, library

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "processes")]

from support import robots  # noqa: E402
from support.dovecot import Dovecot  # noqa: E402

USER = "poststelle"
PASSWORD_VARIABLE = "ACCEPTANCE_POSTSTELLE_PASSWORT"


@library(scope="SUITE", auto_keywords=False)
class PosteingangEnvironment:
    """Starts Dovecot with the mailbox ``poststelle``, delivers the sample mails, runs the robot, reads folders."""

    def __init__(self, city: str = "limburg") -> None:
        self.city = city
        self.dovecot: Dovecot | None = None
        self.home = Path(tempfile.mkdtemp(prefix="rathaus-posteingang-"))
        self.samples: list[Path] = []
        self.last_output = ""

    # -- servers and mail ----------------------------------------------------------------------------

    @keyword
    def start_mail_server(self) -> None:
        """Starts Dovecot (IMAP with STARTTLS) with the user ``poststelle``."""
        self.dovecot = Dovecot(users={USER: "Poststelle-Geheim-2026"}).start()

    @keyword
    def stop_everything(self) -> None:
        """Stops Dovecot and removes the temporary folders."""
        if self.dovecot:
            self.dovecot.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    @keyword
    def deliver_sample_mails(self) -> int:
        """Generates the process's sample mails for the city, delivers them into the inbox; returns the count."""
        from posteingang.samples.generate import generate

        self.samples = generate(self.home / "beispiele", self.city)
        self.deliver_samples_again()
        return len(self.samples)

    @keyword
    def deliver_samples_again(self) -> None:
        """Delivers the same sample mails (same Message-IDs) into the inbox once more."""
        robots.deliver(self.dovecot, USER, self.samples)

    @keyword
    def deliver_mail_without_message_id(self) -> None:
        """Delivers a mail whose sender's program left out the Message-ID header."""
        raw = ("From: Hans-Peter Krämer <hp.kraemer@example.org>\r\nTo: poststelle@limburg.de\r\n"
               "Subject: Anfrage\r\nDate: Mon, 02 Nov 2026 09:30:00 +0100\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\nGuten Tag, bitte rufen Sie mich zurück.\r\n")
        self.dovecot.deliver(USER, "INBOX", raw.encode("utf-8"))

    @keyword
    def forget_work_item_queue(self) -> None:
        """Deletes the robot's local work item queue, as if its machine had been replaced."""
        robots.forget_work_item_queue(self.home / self.city / "posteingang")

    # -- running the robot ---------------------------------------------------------------------------

    @keyword
    def run_city_robot(self, expected_rc: int = 0, **overrides: Any) -> str:
        """Runs ``rathaus run <city>/posteingang`` against the test mailbox; returns its console output.

        Keyword arguments override config keys given as ``section__key=value``; ``env__NAME=value`` sets
        an environment variable of the run.
        """
        config, env = robots.mailbox_settings(self.dovecot, USER, PASSWORD_VARIABLE)
        self.last_output = robots.run_city_robot(f"{self.city}/posteingang", self.home, expected_rc=expected_rc,
                                                 config=config, env=env, overrides=overrides)
        return self.last_output

    @keyword
    def output_xml_of_last_run(self) -> Path:
        """The merged ``output.xml`` beside the ``log.html`` that the last run printed."""
        return robots.output_xml(self.last_output)

    # -- what ended up where -------------------------------------------------------------------------

    def _expected(self) -> dict[str, dict[str, Any]]:
        from posteingang.samples.generate import expected_routing

        return expected_routing(self.city)

    @keyword
    def sample_keys(self) -> list[str]:
        """The keys of the sample mails, e.g. ``scan-brief``."""
        return list(self._expected())

    @keyword
    def sample_message_id(self, key: str) -> str:
        """The Message-ID of the sample mail ``key``."""
        return self._expected()[key]["message_id"]

    @keyword
    def expected_folder(self, key: str, review: str = "Pruefung") -> str:
        """The IMAP folder the sample ``key`` belongs in by the city's rules (Dovecot separates levels with ``.``)."""
        folder = self._expected()[key]["ordner"]
        return folder.replace("/", ".") if folder else review

    @keyword
    def folder_count(self, folder: str) -> int:
        """Number of mails in a folder of the general mailbox (0 when the folder does not exist)."""
        return robots.folder_count(self.dovecot, USER, folder)

    @keyword
    def mailbox_folders(self) -> list[str]:
        """All folders of the general mailbox, INBOX first."""
        return self.dovecot.folders(USER)

    @keyword
    def messages_in_folder(self, folder: str) -> list[dict[str, Any]]:
        """The mails of a folder: ``message_id``, ``in_reply_to``, ``subject``, ``attachments`` (name, bytes)."""
        result = []
        for msg in robots.parsed_mails(self.dovecot.messages(USER, folder)):
            result.append({
                "message_id": robots.one_line(msg["Message-ID"]),
                "in_reply_to": robots.one_line(msg["In-Reply-To"]),
                "subject": str(msg["Subject"] or ""),
                "attachments": [(part.get_filename(), part.get_content()) for part in msg.iter_attachments()],
            })
        return result

    @keyword
    def docket_of_sample(self, key: str, folder: str) -> str:
        """The text of the one docket PDF filed in ``folder`` for the sample ``key``; fails unless exactly one."""
        from rathaus.pdf.reader import read_text

        original = self.sample_message_id(key)
        dockets = [m for m in self.messages_in_folder(folder) if m["in_reply_to"] == original]
        if len(dockets) != 1:
            raise AssertionError(f"{len(dockets)} dockets for {original} in '{folder}', expected one.")
        name, data = dockets[0]["attachments"][0]
        if not (name.startswith("Laufzettel-PE-") and name.endswith(".pdf")):
            raise AssertionError(f"Docket attachment '{name}' is not a Laufzettel PDF.")
        path = self.home / name
        path.write_bytes(data)
        return "\n".join(read_text(path).values())

    @keyword
    def sample_should_be_in_folder(self, key: str, folder: str) -> None:
        """Fails unless the original sample mail ``key`` is in ``folder``."""
        original = self.sample_message_id(key)
        ids = [m["message_id"] for m in self.messages_in_folder(folder)]
        if original not in ids:
            raise AssertionError(f"Sample '{key}' ({original}) is not in folder '{folder}'.")

    @keyword
    def personal_data_of_samples(self) -> list[str]:
        """Names, addresses and subjects of the citizens' sample mails: none may appear in a log."""
        from posteingang.samples.generate import PEOPLE, samples

        found = [text for person in PEOPLE for text in person]
        found += [s.subject for s in samples(self.city) if s.expected in (None, "ordnungsamt", "bauamt")]
        return [text for text in found if text not in ("Scan", "Frage")]
