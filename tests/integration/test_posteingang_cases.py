"""The mail room robot's consumer on the case shapes it meets: uploads, a clerk's correction, a failing item.

Runs the process's real steps (``posteingang.resource``: producer and consumer) with Robot on a real SQLite work
item queue and the Limburg robot's Maildir under a temporary ``RATHAUS_HOME``, as ``rathaus run`` would, with the
real Tesseract for the scanned letter. Uploaded items are made as the control room makes them
(:func:`rathaus.mail.intake.mail_case` for an ``.eml``, ``quelle``/``referenz``/``eingang`` for a loose file); a
clerk's retry is what the control room does to the item: ``fall`` replaced, state back to new.
"""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from imapclient import imap_utf7
from posteingang.samples.generate import build_mail, expected_routing, samples, scanned_letter
from rathaus.core.cases import Intake
from rathaus.core.config import load_process
from rathaus.core.project import Project
from rathaus.mail.intake import mail_case, read_mail_file
from rathaus.pdf.reader import read_text
from rathaus.process.failures import FailureLedger
from rathaus.workitems.queue import open_queue

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "limburg/posteingang"
CITY = "limburg"
REVIEW = "Pruefung"
FOLDERS = {"jugendamt": "Fachdienste.Jugend und Kinderbetreuung", "bauamt": "Fachdienste.Stadtplanung und Bauen",
           "ordnungsamt": "Fachdienste.Sicherheit und Ordnung", "buergerbuero": "Fachdienste.Bürgerbüro"}

SUITE = """\
*** Settings ***
Resource            posteingang/steps/posteingang.resource
Suite Setup         Start Posteingang Robot    ${CONFIG_FILE}

*** Tasks ***
Eingänge anlegen
    ${items}=    Evaluate    json.loads(pathlib.Path($SEED).read_text(encoding='utf-8'))    modules=json,pathlib
    FOR    ${item}    IN    @{items}
        Create Output Work Item    variables=${{ {**$item['variables'], 'work_item_key': $item['key']} }}
        ...    files=${item}[files]    save=True
    END

Post aus dem Postfach übernehmen
    Take Mail From General Mailbox

Post zuordnen
    Route All Mail
"""


class Room:
    """The robot's home, queue and mailbox in ``tmp_path``; seeds items, runs the steps, reads what happened."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        self.maildir = self.home / CITY / "poststelle"
        self.uploads = tmp_path / "uploads"
        self.seed: list[dict[str, Any]] = []
        self.output = ""

    # -- input -----------------------------------------------------------------------------------------------

    def sample_mail(self, key: str) -> bytes:
        for index, sample in enumerate(samples(CITY)):
            if sample.key == key:
                return build_mail(sample, CITY, index).as_bytes()
        raise AssertionError(key)

    def deliver(self, key: str) -> str:
        """Delivers the sample mail ``key`` into the robot's inbox; returns its Message-ID."""
        self.maildir.parent.mkdir(parents=True, exist_ok=True)
        box = mailbox.Maildir(self.maildir, create=True)
        box.add(mailbox.MaildirMessage(self.sample_mail(key)))
        return expected_routing(CITY)[key]["message_id"]

    def _files(self, reference: str, files: list[tuple[str, bytes]]) -> list[str]:
        folder = self.uploads / reference.strip("<>").replace("@", "_")
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, content in files:
            (folder / name).write_bytes(content)
            paths.append(str(folder / name))
        return paths

    def upload_eml(self, name: str, raw: bytes) -> str:
        """An uploaded ``.eml`` as the control room makes it an item: attachments as files, the mail's variables."""
        intake = Intake.of(load_process(Project(ROOT), "posteingang"))
        case = mail_case(read_mail_file(name, raw), source="upload", max_text=intake.mail_text)
        paths = self._files(case.key, list(case.files))
        variables = {**case.variables, "dateien": case.file_names, "referenz": case.key}
        self.seed.append({"key": case.key, "variables": variables, "files": paths})
        return case.key

    def upload_file(self, reference: str, name: str, content: bytes, **fields: str) -> str:
        """An uploaded loose file as the control room makes it an item: the file, what the clerk typed, no mail."""
        variables = {**fields, "quelle": "upload", "eingang": "02.11.2026", "dateien": [name], "referenz": reference}
        self.seed.append({"key": reference, "variables": variables, "files": self._files(reference, [(name, content)])})
        return reference

    # -- running ---------------------------------------------------------------------------------------------

    def run(self, *tasks: str, limit: int = 3) -> str:
        (self.tmp / "seed.json").write_text(json.dumps(self.seed), encoding="utf-8")
        override = self.tmp / "override.yaml"
        override.write_text(f"pruefung:\n  max_fehlversuche: {limit}\n", encoding="utf-8")
        suite = self.tmp / "tasks.robot"
        suite.write_text(SUITE, encoding="utf-8")
        env = {
            **os.environ,
            "RATHAUS_HOME": str(self.home),
            "RATHAUS_CONFIG_OVERRIDE": str(override),
            "RATHAUS_WORKITEMS_DB": str(self.tmp / "workitems.sqlite"),
            "RATHAUS_WORKITEMS_INPUT_QUEUE": QUEUE,
            "RATHAUS_WORKITEMS_OUTPUT_QUEUE": QUEUE,
            "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("keywords", "sandbox", "processes")),
        }
        chosen = [arg for task in tasks or ("Eingänge anlegen", "Post aus dem Postfach übernehmen", "Post zuordnen")
                  for arg in ("--task", task)]
        result = subprocess.run(
            [sys.executable, "-m", "robot", "--output", "NONE", "--log", "NONE", "--report", "NONE", "--console",
             "quiet", "--maxassignlength", "0", "--pythonpath", str(ROOT / "processes"), "--pythonpath",
             str(ROOT / "resources"), "--variable", f"CONFIG_FILE:{ROOT / 'robots/limburg/posteingang/config.yaml'}",
             "--variable", f"SEED:{self.tmp / 'seed.json'}", *chosen, str(suite)],
            env=env, check=False, cwd=self.tmp, timeout=300, capture_output=True, text=True,
        )
        self.output = result.stdout + result.stderr
        return self.output

    # -- what happened ---------------------------------------------------------------------------------------

    def items(self) -> dict[str, Any]:
        return {item.key: item for item in open_queue(self.tmp / "workitems.sqlite").list_items(QUEUE)}

    def retry(self, key: str, **fall: Any) -> None:
        """What the control room does on a clerk's retry: ``fall`` corrected, the item queued again (state new)."""
        with sqlite3.connect(self.tmp / "workitems.sqlite") as conn:
            (payload,) = conn.execute("SELECT payload FROM items WHERE key = ?", (key,)).fetchone()
            payload = json.loads(payload)
            payload["fall"] = {**payload["fall"], **fall}
            conn.execute("UPDATE items SET payload = ?, status = 'new', exception_type = NULL, code = NULL, "
                         "message = NULL WHERE key = ?", (json.dumps(payload), key))

    def folder(self, name: str) -> list[email.message.EmailMessage]:
        box = mailbox.Maildir(self.maildir, create=False)
        if name != "INBOX":
            name = imap_utf7.encode(name).decode("ascii")  # Maildir++ names folders as IMAP does
            if name not in box.list_folders():
                return []
            box = box.get_folder(name)
        return [email.message_from_bytes(bytes(message), policy=email.policy.default) for message in box]

    def dockets(self, folder: str, number: str) -> list[email.message.EmailMessage]:
        return [m for m in self.folder(folder) if m["X-Rathaus-Laufzettel"] == number]

    def docket_text(self, message: email.message.EmailMessage) -> str:
        name, pdf = next((p.get_filename(), p.get_content()) for p in message.iter_attachments())
        assert name.startswith("Laufzettel-PE-") and name.endswith(".pdf"), name
        path = self.tmp / name
        path.write_bytes(pdf)
        return " ".join(" ".join(read_text(path).values()).split())


@pytest.fixture
def room(tmp_path) -> Room:
    return Room(tmp_path)


def _letter() -> bytes:
    lines = ["Małgorzata Kowalczyk", "Grabenstraße 12", "65549 Limburg", "", "Betreuungsplatz für meinen Sohn", "",
             "Sehr geehrte Damen und Herren,", "", "hiermit bitte ich um einen Betreuungsplatz in einer",
             "Kindertagesstätte für meinen Sohn ab dem 1. Februar 2027. Bitte teilen",
             "Sie mir mit, ob ein Kita-Platz in unserer Nähe frei ist.", "", "Mit freundlichen Grüßen"]
    return scanned_letter(lines, random.Random(7))


def test_uploads_and_a_mail_are_routed_and_filed_with_their_dockets(room):
    scan = room.upload_file("UP-2026-0001", "Brief_Kita.pdf", _letter())
    eml = room.upload_eml("Bauvoranfrage.eml", room.sample_mail("bauvoranfrage"))
    mail = room.deliver("laermbeschwerde")
    output = room.run()
    items = room.items()
    assert {key: items[key].status.value for key in (scan, eml, mail)} == dict.fromkeys((scan, eml, mail), "done"), \
        output
    assert room.folder("INBOX") == []

    # the scanned letter, uploaded as a file: routed by OCR, its docket carries it (no mail in any mailbox)
    payload = items[scan].payload
    assert payload["fall"] == {"absender": None, "betreff": None, "eingang": "02.11.2026", "fachbereich": None,
                               "bemerkung": None, "text": payload["inhalt"]["text"]}
    assert payload["fachbereich"] == "jugendamt" and payload["zuordnung"] == "regeln"
    assert payload["inhalt"]["quelle"] == "upload" and "Kindertagesstätte" in payload["inhalt"]["text"]
    [docket] = room.dockets(FOLDERS["jugendamt"], payload["eingangsnummer"])
    assert docket["In-Reply-To"] is None
    assert [p.get_filename() for p in docket.iter_attachments()][1:] == ["Brief_Kita.pdf"]
    text = room.docket_text(docket)
    assert "Eingangsweg Upload im Kontrollraum (Referenz UP-2026-0001)" in text
    assert "Eingangsdatum 02.11.2026 " in text and "Text aus OCR" in text
    assert "hängen nach dem Laufzettel an" in docket.get_body(("plain",)).get_content()

    # the uploaded .eml: its attachment routes it, the docket names the mail and carries the attachment
    payload = items[eml].payload
    assert payload["fall"]["betreff"].startswith("Bauvoranfrage") and payload["fachbereich"] == "bauamt"
    [docket] = room.dockets(FOLDERS["bauamt"], payload["eingangsnummer"])
    assert docket["In-Reply-To"] == eml
    assert [p.get_filename() for p in docket.iter_attachments()][1:] == ["Bauvoranfrage.pdf"]

    # the mail from the mailbox: the same case shape, moved next to its docket, which carries nothing else
    payload = items[mail].payload
    assert payload["quelle"] == "postfach" and payload["fachbereich"] == "ordnungsamt"
    assert payload["fall"]["absender"].endswith(">") and "Nachtruhe" in payload["text"]
    folder = room.folder(FOLDERS["ordnungsamt"])
    assert mail in [m["Message-ID"] for m in folder]
    [docket] = room.dockets(FOLDERS["ordnungsamt"], payload["eingangsnummer"])
    assert len(list(docket.iter_attachments())) == 1
    assert "Eingangsdatum 02.11.2026, 07:45 Uhr" in room.docket_text(docket)


def test_the_clerks_department_in_fall_is_what_the_retry_files_to(room):
    question = room.upload_file("UP-2026-0002", "Anfrage.txt", "Wann ist das Rathaus geöffnet?".encode(),
                                absender="Hans-Peter Krämer", betreff="Frage")
    tie = room.deliver("mehrdeutig")
    unknown = room.deliver("ohne-treffer")
    room.run()
    items = room.items()
    assert {key: (items[key].status.value, items[key].code) for key in (question, tie, unknown)} == {
        question: ("failed_business", "KEIN_TREFFER"), tie: ("failed_business", "GLEICHSTAND"),
        unknown: ("failed_business", "KEIN_TREFFER")}
    assert "Der Laufzettel liegt mit den hochgeladenen Unterlagen im Ordner 'Pruefung'." in items[question].message
    assert "im Fall eintragen (dann erneut versuchen)" in items[tie].message
    kept = {key: items[key].payload["inhalt"] for key in (question, tie)}
    number = {key: items[key].payload["eingangsnummer"] for key in (question, tie, unknown)}
    assert len(room.dockets(REVIEW, number[question])) == 1 and len(room.dockets(REVIEW, number[tie])) == 1
    assert tie in [m["Message-ID"] for m in room.folder(REVIEW)]

    # the rules tie between Ordnung and Bauen; the clerk says Bauen. The clerk also corrects a subject.
    room.retry(question, fachbereich="buergerbuero", betreff="Frage zu den Öffnungszeiten",
               bemerkung="Bitte Öffnungszeiten zwischen den Jahren mitteilen.")
    room.retry(tie, fachbereich="bauamt")
    room.retry(unknown, fachbereich="rathaus")
    output = room.run("Post zuordnen")
    items = room.items()
    assert items[question].status.value == "done", output
    assert items[tie].status.value == "done", output
    assert {key: items[key].payload["inhalt"] for key in (question, tie)} == kept  # nothing read again
    assert items[tie].payload["fachbereich"] == "bauamt" and items[tie].payload["zuordnung"] == "sachbearbeitung"

    # filed where the clerk said, with a new docket; the review docket went along, the review folder is empty
    [new, old] = sorted(room.dockets(FOLDERS["buergerbuero"], number[question]),
                        key=lambda m: "Zuordnung von Hand" not in room.docket_text(m))
    text = room.docket_text(new)
    assert "Zuordnung von Hand durch die Sachbearbeitung" in text and "Frage zu den Öffnungszeiten" in text
    assert "Bemerkung Bitte Öffnungszeiten zwischen den Jahren mitteilen." in text
    assert [p.get_filename() for p in new.iter_attachments()][1:] == ["Anfrage.txt"]
    assert "Prüfung durch die Poststelle" in room.docket_text(old)
    assert tie in [m["Message-ID"] for m in room.folder(FOLDERS["bauamt"])]
    texts = sorted((room.docket_text(m) for m in room.dockets(FOLDERS["bauamt"], number[tie])),
                   key=lambda text: "Zuordnung von Hand" not in text)
    assert len(texts) == 2 and "Fachdienst Stadtplanung und Bauen – Ordner" in texts[0]
    assert "Zuordnung von Hand" in texts[0] and "Prüfung durch die Poststelle" in texts[1]
    assert sorted(m["Message-ID"] for m in room.folder(REVIEW)) == sorted(
        [unknown, *(m["Message-ID"] for m in room.dockets(REVIEW, number[unknown]))])

    # a key the rules do not know goes back to the clerk, naming the keys there are
    assert (items[unknown].status.value, items[unknown].code) == ("failed_business", "FACHBEREICH_UNBEKANNT")
    assert "Den Fachbereich 'rathaus' gibt es in den Zuordnungsregeln nicht." in items[unknown].message
    assert "bauamt (Fachdienst Stadtplanung und Bauen)" in items[unknown].message


def test_an_item_failing_unexpectedly_goes_to_the_clerk_after_the_limit_and_blocks_no_other(room):
    mail = room.deliver("geburtsurkunde")
    variables = {"message_id": mail, "absender": "baerbel@example.com", "betreff": "Geburtsurkunde",
                 "eingang": "02.11.2026", "quelle": "postfach", "uebersprungene_anhaenge": 5}  # a damaged item
    room.seed.append({"key": mail, "variables": variables, "files": []})
    scan = room.upload_file("UP-2026-0003", "Brief_Kita.pdf", _letter())
    ledger = FailureLedger(room.home / CITY / "posteingang" / "fehlversuche.json")

    output = room.run("Eingänge anlegen", "Post zuordnen", limit=2)
    items = room.items()
    assert (items[mail].status.value, items[mail].code) == ("failed_application", "UNEXPECTED"), output
    assert items[scan].status.value == "done"  # the others keep flowing
    assert ledger.count(mail) == 1 and mail in [m["Message-ID"] for m in room.folder("INBOX")]

    output = room.run("Eingänge anlegen", "Post zuordnen", limit=2)  # the damaged item is queued again
    item = room.items()[mail]
    assert (item.status.value, item.code) == ("failed_business", "WIEDERHOLT_UNERWARTET"), output
    assert item.message.startswith(f"{mail}: Die Verarbeitung ist 2-mal hintereinander mit einem unerwarteten")
    assert item.message.endswith("Die Mail liegt ohne Laufzettel im Ordner 'Pruefung'.")
    assert room.folder("INBOX") == [] and [m["Message-ID"] for m in room.folder(REVIEW)] == [mail]
    assert ledger.count(mail) == 2 and ledger.count(scan) == 0
