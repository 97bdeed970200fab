"""Limburg's clerk and the mail room robot in ``rathaus controlroom --demo``: an uploaded mail and a scanned letter
routed and filed with their dockets, the item no rule could route corrected with its department and filed, and the
robot's own mailbox intake.

Checked where people look: the department folders of the robot's Maildir (the docket mail with the uploaded
documents, since an upload has no mail in the mailbox) and the items in the control room.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from imapclient import imap_utf7
from rathaus.pdf.reader import read_text

ROBOT = "limburg/posteingang"
MAILDIR = "limburg/poststelle"  # robots/limburg/posteingang/config.yaml: postfach.url maildir:limburg/poststelle
CLERK = "limburg.sachbearbeitung"
BAUEN = "Fachdienste.Stadtplanung und Bauen"
JUGEND = "Fachdienste.Jugend und Kinderbetreuung"
ORDNUNG = "Fachdienste.Sicherheit und Ordnung"
REVIEW = "Pruefung"


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, bytes]:
    """The process's sample mails for Limburg by key (``scan-brief``), as they arrive."""
    from posteingang.samples.generate import generate

    paths = generate(tmp_path_factory.mktemp("posteingang-beispiele"), "limburg")
    return {path.stem.split("-", 1)[1]: path.read_bytes() for path in paths}


def _folder(room, name: str) -> list:
    # the robot's Maildir names folders as IMAP does (modified UTF-7: "Bürgerbüro" is "B&APw-rgerb&APw-ro")
    return room.folder(ROBOT, MAILDIR, imap_utf7.encode(name).decode("ascii"))


def _dockets(room, folder: str, number: str) -> list:
    return [mail for mail in _folder(room, folder) if mail["X-Rathaus-Laufzettel"] == number]


def _text(docket, tmp_path: Path) -> str:
    name, content = next((part.get_filename(), part.get_content()) for part in docket.iter_attachments())
    path = tmp_path / name
    path.write_bytes(content)
    return " ".join(" ".join(read_text(path).values()).split())


def test_a_clerk_uploads_a_mail_and_a_scanned_letter_and_routes_the_unclear_one_by_hand(demo_room, samples, tmp_path):
    room = demo_room
    scan = next(part for part in message_from_bytes(samples["scan-brief"], policy=policy.default).iter_attachments())
    uploads = [("Bauvoranfrage.eml", samples["bauvoranfrage"]), (scan.get_filename(), scan.get_content()),
               ("Frage.eml", samples["ohne-treffer"])]
    with room.client(CLERK) as clerk:
        run = room.wait(clerk, room.start(clerk, ROBOT, uploads))
        assert run["state"] == "succeeded", run["message"]
        states = {item["reference"]: item["state"] for item in run["items"]}
        assert sorted(states.values()) == ["done", "done", "failed_business"], states
        items = {item["reference"]: room.item(clerk, item["id"]) for item in run["items"]}
        listed = {item["id"]: item["state"] for item in room.items(clerk, "posteingang")}
        assert all(listed[item["id"]] == item["state"] for item in items.values())

        # the uploaded mail: routed by its attachment, its docket carries the attachment (no mail in the mailbox)
        mail = items["<bauvoranfrage.2026.limburg@beispiel.rathaus.test>"]
        assert mail["state"] == "done" and mail["payload"]["fachbereich"] == "bauamt"
        [docket] = _dockets(room, BAUEN, mail["payload"]["eingangsnummer"])
        assert [part.get_filename() for part in docket.iter_attachments()][1:] == ["Bauvoranfrage.pdf"]
        assert "Eingangsweg Upload im Kontrollraum" in _text(docket, tmp_path)

        # the scanned letter, a loose file: no Message-ID, named by its reference, routed by OCR alone
        [letter] = [item for reference, item in items.items() if not reference.startswith("<")]
        assert letter["state"] == "done" and letter["payload"]["fachbereich"] == "jugendamt"
        [docket] = _dockets(room, JUGEND, letter["payload"]["eingangsnummer"])
        assert [part.get_filename() for part in docket.iter_attachments()][1:] == [scan.get_filename()]
        text = _text(docket, tmp_path)
        assert f"(Referenz {letter['reference']})" in text and "Text aus OCR" in text

        # the mail no rule knows: handed back with its docket in the review folder and its case data to correct
        unclear = items["<ohne-treffer.2026.limburg@beispiel.rathaus.test>"]
        assert unclear["state"] == "failed_business" and unclear["error_code"] == "KEIN_TREFFER"
        assert "Keine Zuordnungsregel passt" in unclear["error_message"]
        assert "im Fall eintragen (dann erneut versuchen)" in unclear["error_message"]
        number = unclear["payload"]["eingangsnummer"]
        assert len(_dockets(room, REVIEW, number)) == 1
        data = unclear["payload"]["fall"]
        assert data["fachbereich"] is None and data["betreff"] == "Frage"
        assert unclear["schema"]["properties"]["fachbereich"]["title"] == "Zuständiger Fachbereich"

        # a department key that is no key: refused in German before anything is retried
        answer = clerk.post(f"/api/items/{unclear['id']}/retry",
                            json={"payload": {"fall": {**data, "fachbereich": "Bürgerbüro"}}})
        assert answer.status_code == 422 and "Fachbereich" in answer.json()["detail"], answer.text

        # the clerk's department and remark: the retry files it there, with a docket saying who decided
        corrected = {**data, "fachbereich": "buergerbuero", "bemerkung": "Öffnungszeiten zwischen den Jahren."}
        answer = clerk.post(f"/api/items/{unclear['id']}/retry", json={"payload": {"fall": corrected}})
        assert answer.status_code == 200, answer.text
        retry = room.wait(clerk, answer.json()["run_id"])
        assert retry["state"] == "succeeded", retry["message"]
        done = room.item(clerk, unclear["id"])
        assert done["state"] == "done" and done["payload"]["zuordnung"] == "sachbearbeitung"
        assert done["payload"]["inhalt"] == unclear["payload"]["inhalt"]  # read once, not again
    texts = sorted((_text(m, tmp_path) for m in _dockets(room, "Fachdienste.Bürgerbüro", number)),
                   key=lambda text: "Zuordnung von Hand" not in text)
    assert len(texts) == 2 and "Bemerkung Öffnungszeiten zwischen den Jahren." in texts[0]
    assert "Prüfung durch die Poststelle" in texts[1]  # the review docket went along
    assert _dockets(room, REVIEW, number) == []


def test_the_robot_takes_a_mail_from_its_own_mailbox_and_files_it(demo_room, samples, tmp_path):
    """A run without uploads (as a schedule starts it): the mail in the inbox is routed and moved beside its docket."""
    room = demo_room
    room.deliver(ROBOT, MAILDIR, samples["laermbeschwerde"])
    with room.client(CLERK) as clerk:
        run = room.wait(clerk, room.start(clerk, ROBOT))
        assert run["state"] == "succeeded", run["message"]
        [item] = run["items"]
        assert item["reference"] == "<laermbeschwerde.2026.limburg@beispiel.rathaus.test>", item
        case = room.item(clerk, item["id"])
        assert case["state"] == "done" and case["payload"]["fachbereich"] == "ordnungsamt", case
    assert room.folder(ROBOT, MAILDIR, "INBOX") == []
    assert item["reference"] in [str(m["Message-ID"]).strip() for m in _folder(room, ORDNUNG)]
    [docket] = _dockets(room, ORDNUNG, case["payload"]["eingangsnummer"])
    assert len(list(docket.iter_attachments())) == 1  # the docket alone: the mail itself lies beside it
    assert "Eingangsdatum 02.11.2026, 07:45 Uhr" in _text(docket, tmp_path)
