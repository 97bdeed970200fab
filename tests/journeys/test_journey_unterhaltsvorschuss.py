"""Gießen's clerk and the Unterhaltsvorschuss robot in ``rathaus controlroom --demo``: uploads, the case a robot
hands back, its correction, a second upload of the same mails, and the robot's own mailbox intake.

Checked where the clerk would look: the UVG-Fachverfahren's records, the letters that went out (the robot's
``Gesendet`` folder), the mail folders and the cases in the control room.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.robots import letter_text

ROOT = Path(__file__).resolve().parents[2]
ROBOT = "giessen/unterhaltsvorschuss"
MAILDIR = "giessen/uvg"  # robots/giessen/unterhaltsvorschuss/config.yaml: postfach.url maildir:giessen/uvg
CLERK = "giessen.sachbearbeitung"


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("uvg-antraege")
    subprocess.run([sys.executable, str(ROOT / "processes/unterhaltsvorschuss/samples/generate.py"), "--out",
                    str(folder), "--good", "2"], check=True, stdout=subprocess.DEVNULL)
    return folder


def _mail(samples: Path, name: str) -> tuple[str, bytes]:
    return name, (samples / name).read_bytes()


def _entered(room) -> list[dict]:
    return room.rows(ROBOT, "fachverfahren", "SELECT aktenzeichen, antragsteller_name, antragsteller_iban, "
                     "kind_geburtsdatum FROM faelle ORDER BY id")


def _letters(room) -> list:
    return room.folder(ROBOT, MAILDIR, "Gesendet")


def test_a_clerk_uploads_applications_corrects_the_one_handed_back_and_uploads_nothing_twice(demo_room, samples,
                                                                                             tmp_path):
    room = demo_room
    with room.client(CLERK) as clerk:
        # an .eml without the form is refused at once, naming the file and what to do; nothing starts
        refused = clerk.post("/api/runs", data={"robot": ROBOT}, files=[
            ("dateien", (*_mail(samples, "07-ohne-anhang.eml"), "message/rfc822"))])
        assert refused.status_code == 422 and "07-ohne-anhang.eml" in refused.json()["detail"], refused.text

        # two complete applications and one without IBAN and the child's birth date, as the mails they are
        run_id = room.start(clerk, ROBOT, [_mail(samples, "01-gut-1.eml"), _mail(samples, "02-gut-2.eml"),
                                           _mail(samples, "04-unvollstaendig.eml")])
        run = room.wait(clerk, run_id)
        assert run["state"] == "succeeded", run["message"]
        assert "Eingetragen: 2" in run["message"] and "An die Sachbearbeitung übergeben: 1" in run["message"]
        states = {item["reference"]: item["state"] for item in run["items"]}
        assert sorted(states.values()) == ["done", "done", "failed_business"], states

        entered = _entered(room)
        assert len(entered) == 2 and len({row["aktenzeichen"] for row in entered}) == 2, entered
        numbers = {row["antragsteller_name"]: row["aktenzeichen"] for row in entered}
        letters = _letters(room)
        assert len(letters) == 2
        for letter in letters:  # each applicant got the acknowledgement with their own Aktenzeichen, as a PDF
            [pdf] = [part for part in letter.iter_attachments() if part.get_filename().endswith(".pdf")]
            number = next(n for n in numbers.values() if n in str(letter["Subject"]))
            path = tmp_path / pdf.get_filename()
            path.write_bytes(pdf.get_content())
            assert number in letter_text(path) and str(letter["In-Reply-To"]).strip() in states

        # the case handed back: its code, the German message, and its data in the form the clerk corrects
        [waiting] = room.items(clerk, ROBOT, state="failed_business")
        case = room.item(clerk, waiting["id"])
        assert case["error_code"] == "PFLICHTANGABEN_FEHLEN" and "IBAN fehlt" in case["error_message"]
        assert case["reference"] in case["error_message"]
        data = case["payload"]["fall"]
        assert data["antragsteller"]["iban"] == "" and data["kind"]["geburtsdatum"] == ""
        assert case["schema"]["properties"]["antragsteller"]["properties"]["iban"]["title"] == "IBAN"

        # a correction that still does not fit the schema: refused in German, naming the field; nothing changes
        wrong = {**data, "kind": {**data["kind"], "geburtsdatum": "im Februar"}}
        answer = clerk.post(f"/api/items/{case['id']}/retry", json={"payload": {"fall": wrong}})
        assert answer.status_code == 422 and "Geburtsdatum" in answer.json()["detail"], answer.text
        assert room.item(clerk, case["id"])["state"] == "failed_business"

        # corrected and retried: the robot enters what the clerk wrote
        corrected = {**data, "antragsteller": {**data["antragsteller"], "iban": "DE89 3704 0044 0532 0130 00"},
                     "kind": {**data["kind"], "geburtsdatum": "01.02.2019"}}
        answer = clerk.post(f"/api/items/{case['id']}/retry", json={"payload": {"fall": corrected}})
        assert answer.status_code == 200, answer.text
        retry = room.wait(clerk, answer.json()["run_id"])
        assert retry["state"] == "succeeded" and "Eingetragen: 1" in retry["message"], retry["message"]
        done = room.item(clerk, case["id"])
        assert done["state"] == "done" and done["payload"]["aktenzeichen"] not in numbers.values()
        [row] = [r for r in _entered(room) if r["aktenzeichen"] == done["payload"]["aktenzeichen"]]
        assert row["kind_geburtsdatum"] == "01.02.2019" and row["antragsteller_iban"].replace(" ", "") == (
            "DE89370400440532013000")
        assert len(_letters(room)) == 3

        # the same two complete mails uploaded again: reported as already there with their Aktenzeichen;
        # nothing is entered, answered or started twice
        again = clerk.post("/api/runs", data={"robot": ROBOT}, files=[
            ("dateien", (*_mail(samples, name), "message/rfc822")) for name in ("01-gut-1.eml", "02-gut-2.eml")])
        assert again.status_code == 409 and again.json()["code"] == "BEREITS_VORHANDEN", again.text
        known = again.json()["bereits_vorhanden"]
        assert sorted(case["aktenzeichen"] for case in known) == sorted(numbers.values())
        assert {case["state"] for case in known} == {"done"}
        for number in numbers.values():
            assert number in again.json()["detail"]
        assert len(_entered(room)) == 3 and len(_letters(room)) == 3


def test_the_robot_takes_a_mail_from_its_own_mailbox_and_files_it(demo_room, samples):
    """The robot's own intake (a scheduled run has no uploads): a mail in the inbox becomes a case, is answered and
    leaves the inbox only once its case is recorded."""
    room = demo_room
    room.deliver(ROBOT, MAILDIR, (samples / "03-nachforderung.eml").read_bytes())
    sent = len(_letters(room))
    with room.client(CLERK) as clerk:
        run = room.wait(clerk, room.start(clerk, ROBOT))
        assert run["state"] == "succeeded", run["message"]
        [item] = run["items"]
        assert item["reference"] == "<uvg-nachforderung.3@antrag.example.org>", item
        case = room.item(clerk, item["id"])
        assert case["state"] == "failed_business" and case["error_code"] == "NACHFORDERUNG", case
        assert "Geburtsurkunde" in case["error_message"] and case["payload"]["aktenzeichen"].startswith("UVG-")
    assert room.folder(ROBOT, MAILDIR, "INBOX") == []
    assert [str(m["Message-ID"]).strip() for m in room.folder(ROBOT, MAILDIR, "Pruefung")] == [item["reference"]]
    [request] = _letters(room)[sent:]
    assert "bitte Unterlagen nachreichen" in str(request["Subject"])
