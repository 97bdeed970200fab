"""Offenbach's clerk and the Gewerbeanzeige robot in ``rathaus controlroom --demo``: a trade notice uploaded as the
mail it came in, one as a loose PDF, one with a missing mandatory field that the clerk corrects, and the robot's own
mailbox intake.

Checked where the clerk would look: the Gewerberegister's records (the demo's long-lived sandbox), the receipts that
went out (the robot's ``Gesendet`` folder) or the one kept for posting (the case's files), the mail folders and the
cases in the control room.
"""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest
from support.robots import letter_text

ROBOT = "offenbach/gewerbeanzeige"
MAILDIR = "offenbach/gewerbe"  # robots/offenbach/gewerbeanzeige/config.yaml: postfach.url maildir:offenbach/gewerbe
CLERK = "offenbach.sachbearbeitung"


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:
    from gewerbeanzeige.samples.generate import generate

    paths = generate(tmp_path_factory.mktemp("gewerbeanzeigen"), "offenbach")
    return {path.stem.split("-", 1)[1]: path for path in paths}


def _mail(samples: dict[str, Path], key: str) -> tuple[str, bytes]:
    return samples[key].name, samples[key].read_bytes()


def _message_id(samples: dict[str, Path], key: str) -> str:
    return "".join(str(email.message_from_bytes(samples[key].read_bytes())["Message-ID"]).split())


def _attached_pdf(samples: dict[str, Path], key: str) -> tuple[str, bytes]:
    """The GewA form of a sample mail, as a clerk saves it from the mail and uploads it on its own."""
    message = email.message_from_bytes(samples[key].read_bytes(), policy=policy.default)
    [form] = list(message.iter_attachments())
    return form.get_filename(), form.get_content()


def _entries(room) -> dict[str, dict]:
    rows = room.rows(ROBOT, "gewerberegister",
                     "SELECT b.registernummer, b.betrieb_name, b.inhaber_geburtsdatum, b.betrieb_plz, "
                     "b.betrieb_taetigkeit, v.eingang_referenz, v.eingang_kanal FROM betriebe b "
                     "JOIN vorgaenge v ON v.betrieb_id = b.id ORDER BY v.id")
    return {row["betrieb_name"]: row for row in rows}


def _receipts(room) -> dict[str, object]:
    """The receipts in the robot's ``Gesendet`` folder by the Message-ID they answer."""
    return {"".join(str(m["In-Reply-To"]).split()): m for m in room.folder(ROBOT, MAILDIR, "Gesendet")
            if m["In-Reply-To"]}


def _letter(message, folder: Path) -> str:
    [pdf] = [part for part in message.iter_attachments() if part.get_filename().endswith(".pdf")]
    path = folder / pdf.get_filename()
    path.write_bytes(pdf.get_content())
    return " ".join(letter_text(path).split())


def test_a_clerk_uploads_notices_and_corrects_the_one_handed_back(demo_room, samples, tmp_path):
    room = demo_room
    handel, unvollstaendig = _message_id(samples, "anmeldung-handel"), _message_id(samples, "pflichtangaben-fehlen")
    with room.client(CLERK) as clerk:
        # a complete GewA1 as the mail it came in, one as a loose PDF (its owner gave no e-mail address), one mail
        # whose form lacks the birth date and the premises' postcode
        run = room.wait(clerk, room.start(clerk, ROBOT, [_mail(samples, "anmeldung-handel"),
                                                         _attached_pdf(samples, "anmeldung-nebenerwerb"),
                                                         _mail(samples, "pflichtangaben-fehlen")]))
        assert run["state"] == "succeeded", run["message"]
        cases = {item["reference"]: room.item(clerk, item["id"]) for item in room.items(clerk, ROBOT)
                 if item["run_id"] == run["id"]}
        assert len(cases) == 3, cases
        assert cases[handel]["state"] == "done" and cases[handel]["payload"]["ergebnis"] == "eingetragen"
        [loose] = [case for reference, case in cases.items() if reference not in (handel, unvollstaendig)]
        assert (loose["state"], loose["error_code"]) == ("failed_business", "SCHREIBEN_PER_POST"), loose
        assert loose["reference"] in loose["error_message"] and "per Post" in loose["error_message"]

        entries = _entries(room)
        assert entries["Feinkost am Markt Ayşe Öztürk"]["eingang_referenz"] == handel
        assert entries["Feinkost am Markt Ayşe Öztürk"]["eingang_kanal"] == "email"
        beratung = entries["IT-Beratung Nguyễn"]
        assert (beratung["eingang_referenz"], beratung["eingang_kanal"]) == (loose["reference"], "post")
        assert "Imbiss am Bahnhof" not in entries

        # the receipt went to the address in the form; the loose PDF's receipt waits among its files for posting
        receipts = _receipts(room)
        assert set(receipts) == {handel}, set(receipts)
        assert str(receipts[handel]["To"]) == "kontakt@feinkost-am-markt.example"
        assert entries["Feinkost am Markt Ayşe Öztürk"]["registernummer"] in _letter(receipts[handel], tmp_path)
        [kept] = [name for name in loose["payload"]["dateien"] if "empfangsbescheinigung" in name]
        answer = clerk.get(f"/api/items/{loose['id']}/files/{kept}")
        assert answer.status_code == 200 and answer.content.startswith(b"%PDF"), answer.status_code
        (tmp_path / kept).write_bytes(answer.content)
        assert beratung["registernummer"] in letter_text(tmp_path / kept)

        # the case handed back: the message names it and what is missing; its data is what the form said
        case = cases[unvollstaendig]
        assert (case["state"], case["error_code"]) == ("failed_business", "PFLICHTANGABEN_FEHLEN"), case
        assert unvollstaendig in case["error_message"] and "Geburtsdatum fehlt" in case["error_message"]
        data = case["payload"]["fall"]
        assert data["inhaber"]["geburtsdatum"] is None and data["betrieb"]["name"] == "Imbiss am Bahnhof"
        assert case["schema"]["properties"]["inhaber"]["properties"]["geburtsdatum"]["title"] == "Geburtsdatum"

        # a correction that still lacks a mandatory entry is refused, naming it; nothing changes
        half = {**data, "inhaber": {**data["inhaber"], "geburtsdatum": "01.02.1990"}}
        answer = clerk.post(f"/api/items/{case['id']}/retry", json={"payload": {"fall": half}})
        assert answer.status_code == 422 and "Postleitzahl" in answer.json()["detail"], answer.text
        assert room.item(clerk, case["id"])["state"] == "failed_business"

        # corrected (and one entry changed) and retried: the robot enters what the clerk wrote, not the form
        corrected = {**half, "betrieb": {**data["betrieb"], "plz": "63067",
                                         "taetigkeit": "Imbiss mit Getränkeverkauf"}}
        answer = clerk.post(f"/api/items/{case['id']}/retry", json={"payload": {"fall": corrected}})
        assert answer.status_code == 200, answer.text
        retry = room.wait(clerk, answer.json()["run_id"])
        assert retry["state"] == "succeeded", retry["message"]
        done = room.item(clerk, case["id"])
        assert done["state"] == "done" and done["payload"]["ergebnis"] == "eingetragen", done
        imbiss = _entries(room)["Imbiss am Bahnhof"]
        assert (imbiss["inhaber_geburtsdatum"], imbiss["betrieb_plz"], imbiss["betrieb_taetigkeit"]) == (
            "01.02.1990", "63067", "Imbiss mit Getränkeverkauf")
        assert imbiss["registernummer"] == done["payload"]["registernummer"]
        receipt = _receipts(room)[unvollstaendig]
        assert str(receipt["To"]) == "imbiss@bahnhof-imbiss.example"
        assert "Imbiss mit Getränkeverkauf" in _letter(receipt, tmp_path)


def test_the_robot_takes_a_mail_from_its_own_mailbox_and_files_it(demo_room, samples, tmp_path):
    """The robot's own intake (a scheduled run has no uploads): a mail in the inbox becomes a case, is entered and
    answered, and leaves the inbox once its case is recorded."""
    room = demo_room
    handwerk = _message_id(samples, "anmeldung-handwerk")
    room.deliver(ROBOT, MAILDIR, samples["anmeldung-handwerk"].read_bytes())
    with room.client(CLERK) as clerk:
        run = room.wait(clerk, room.start(clerk, ROBOT))
        assert run["state"] == "succeeded", run["message"]
        [item] = run["items"]
        assert item["reference"] == handwerk, item
        case = room.item(clerk, item["id"])
        assert case["state"] == "done" and case["payload"]["ergebnis"] == "eingetragen", case
        assert case["payload"]["fall"]["betrieb"]["name"] == "Elektrotechnik Schäfer GmbH"
    assert room.folder(ROBOT, MAILDIR, "INBOX") == []
    assert ["".join(str(m["Message-ID"]).split()) for m in room.folder(ROBOT, MAILDIR, "Erledigt")] == [handwerk]
    entry = _entries(room)["Elektrotechnik Schäfer GmbH"]
    assert (entry["eingang_referenz"], entry["eingang_kanal"]) == (handwerk, "email")
    receipt = _receipts(room)[handwerk]
    assert str(receipt["To"]) == "buero@elektro-gmbh.example"
    assert entry["registernummer"] in _letter(receipt, tmp_path)
