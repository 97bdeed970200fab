"""Fulda's clerk and the E-Rechnung robot in ``rathaus controlroom --demo``: invoices uploaded as XML, ZUGFeRD PDF
and mail, one whose Leitweg-ID names another city and is corrected by the clerk, and the robot's own mailbox intake.

Checked where the clerk and the Kämmerei would look: the finance system's Rechnungseingangsbuch (the demo's sandbox
database), the archive in the robot's home and the run's artifacts, the cases in the control room, and the robot's
Maildir (nothing moved or answered for an upload).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import replace

import pytest
from erechnung.samples import sample_generator

ROBOT = "fulda/e-rechnung"
MAILDIR = "fulda/rechnung"  # robots/fulda/e-rechnung/config.yaml: postfach.url maildir:fulda/rechnung
CLERK = "fulda.sachbearbeitung"
SCHOOLS, TIEFBAU, IT = ("1000", "1040000", "06631009-40-50"), ("1000", "1066200", "06631009-66-69"), (
    "1000", "1010100", "06631009-10-43")
GIESSEN_TIEFBAU = "06531005-6600-27"  # a Leitweg-ID of Gießen: none of Fulda's offices


generator = sample_generator()


def _invoice(number: str, area: str, **changes):
    invoice = generator._invoice(generator.load_city("fulda"), generator.SUPPLIERS["buero"], area, number, 20,
                                 random.Random(number))
    return replace(invoice, **changes)


@pytest.fixture(scope="module")
def mails(tmp_path_factory) -> dict[str, bytes]:
    """The process's sample mails for Fulda, by key (``ubl-bueromaterial``, ``cii-it-dienstleistung``, …)."""
    paths = generator.generate(tmp_path_factory.mktemp("e-rechnung-mails"), "fulda")
    return {path.stem.split("-", 1)[1]: path.read_bytes() for path in paths}


def _entries(room) -> dict[str, dict]:
    rows = room.rows(ROBOT, "finanzsystem", "SELECT belegnummer, rechnungsnummer, buchungskreis, kostenstelle, "
                     "leitweg_id, zahlbetrag, archiv_referenz, bemerkung FROM rechnungen ORDER BY id")
    return {row["rechnungsnummer"]: row for row in rows}


def _routing(entry: dict) -> tuple[str, str, str]:
    return entry["buchungskreis"], entry["kostenstelle"], entry["leitweg_id"]


def _archived(room) -> dict[str, dict]:
    root = room.robot_home(ROBOT) / "fulda/e-rechnung/archiv"  # config.yaml: archiv.ordner, below RATHAUS_HOME
    records = {}
    for sidecar in root.rglob("beleg.json"):
        record = json.loads(sidecar.read_text(encoding="utf-8"))
        record["referenz"] = sidecar.parent.relative_to(root).as_posix()
        record["original"] = (sidecar.parent / record["datei"]["name"]).read_bytes()
        records[record["rechnungsnummer"]] = record
    return records


def _mail_counts(room) -> dict[str, int]:
    return {folder: len(room.folder(ROBOT, MAILDIR, folder)) for folder in ("INBOX", "Erledigt", "Abgelehnt",
                                                                             "Pruefung", "Gesendet")}


def test_a_clerk_uploads_invoices_and_corrects_the_leitweg_id_of_the_one_handed_back(demo_room, mails):
    room = demo_room
    xml = generator.ubl_xml(_invoice("JR-FU-2026-0001", "schulen"))
    zugferd = generator.zugferd_pdf(_invoice("JR-FU-2026-0002", "tiefbau"))
    elsewhere = generator.ubl_xml(_invoice("JR-FU-2026-0003", "tiefbau", leitweg_id=GIESSEN_TIEFBAU))
    uploads = [("XRechnung_JR-FU-2026-0001.xml", xml), ("Rechnung_JR-FU-2026-0002.pdf", zugferd),
               ("it-rechnung.eml", mails["cii-it-dienstleistung"]), ("JR-FU-2026-0003.xml", elsewhere)]
    before = _mail_counts(room)
    with room.client(CLERK) as clerk:
        run = room.wait(clerk, room.start(clerk, ROBOT, uploads))
        assert run["state"] == "succeeded", run["message"]
        assert "Erfasst: 3" in run["message"] and "An die Sachbearbeitung übergeben: 1" in run["message"], run
        assert "Erfasst je Buchungskreis: 1000: 3 Rechnungen" in run["message"]

        # the Rechnungseingangsbuch: each invoice once, under the office of its Leitweg-ID
        entries = _entries(room)
        assert _routing(entries["JR-FU-2026-0001"]) == SCHOOLS
        assert _routing(entries["JR-FU-2026-0002"]) == TIEFBAU
        assert _routing(entries["DWM-FU-26-0877"]) == IT
        assert "JR-FU-2026-0003" not in entries
        assert "als Upload im Kontrollraum" in entries["JR-FU-2026-0001"]["bemerkung"]
        assert "per E-Mail" in entries["DWM-FU-26-0877"]["bemerkung"]

        # the archive keeps each original as it came, and the run's artifacts carry it
        archived = _archived(room)
        assert archived["JR-FU-2026-0001"]["original"] == xml and archived["JR-FU-2026-0002"]["original"] == zugferd
        assert archived["JR-FU-2026-0001"]["quelle"] == "upload" and archived["JR-FU-2026-0001"]["message_id"] is None
        assert archived["DWM-FU-26-0877"]["message_id"] == "<erechnung-fulda-cii-it-dienstleistung.2@" \
            "datenwerk-mittelhessen.example>"
        for number in ("JR-FU-2026-0001", "JR-FU-2026-0002", "DWM-FU-26-0877"):
            assert archived[number]["beleg"] == entries[number]["belegnummer"]
            assert entries[number]["archiv_referenz"] == archived[number]["referenz"]
        answer = clerk.get(f"/api/runs/{run['id']}/artifacts")
        assert answer.status_code == 200, answer.text
        shas = {artifact["sha256"] for artifact in answer.json() if artifact["name"].startswith("ergebnis/archiv")}
        assert hashlib.sha256(xml).hexdigest() in shas and hashlib.sha256(zugferd).hexdigest() in shas

        # the cases: three done, the one with another city's Leitweg-ID with the clerk, nothing sent back for it
        cases = {item["id"]: item for item in room.items(clerk, "e-rechnung") if item["run_id"] == run["id"]}
        assert sorted(item["state"] for item in cases.values()) == ["done", "done", "done", "failed_business"]
        [waiting] = [item for item in cases.values() if item["state"] == "failed_business"]
        case = room.item(clerk, waiting["id"])
        assert case["error_code"] == "LEITWEG_PRUEFEN", case
        assert f"Die Leitweg-ID '{GIESSEN_TIEFBAU}' (BT-10) gehört zu keinem Rechnungsempfänger der Stadt Fulda" \
            in case["error_message"] and "JR-FU-2026-0003" in case["error_message"]
        data = case["payload"]["fall"]
        assert data["leitweg_id"] == GIESSEN_TIEFBAU and data["buchungskreis"] is None
        assert data["rechnungsnummer"] == "JR-FU-2026-0003"
        assert case["schema"]["properties"]["leitweg_id"]["title"] == "Leitweg-ID"
        assert "Rueckweisung_JR-FU-2026-0003.txt" in case["payload"]["dateien"]
        letter = clerk.get(f"/api/items/{case['id']}/files/Rueckweisung_JR-FU-2026-0003.txt")
        assert letter.status_code == 200 and "Rückweisung Ihrer Rechnung JR-FU-2026-0003" in letter.text
        # an upload moves no mail; the uploaded mail's sender hears nothing either (its invoice was entered)
        assert _mail_counts(room) == before

        # a correction that does not fit the schema is refused, naming the field; nothing changes
        answer = clerk.post(f"/api/items/{case['id']}/retry", json={"payload": {"fall": {**data, "leitweg_id": 6}}})
        assert answer.status_code == 422 and "Leitweg-ID" in answer.json()["detail"], answer.text

        # the clerk enters the Leitweg-ID of Fulda's Tiefbauamt and retries: booked there
        corrected = {**data, "leitweg_id": TIEFBAU[2]}
        answer = clerk.post(f"/api/items/{case['id']}/retry", json={"payload": {"fall": corrected}})
        assert answer.status_code == 200, answer.text
        retry = room.wait(clerk, answer.json()["run_id"])
        assert retry["state"] == "succeeded" and "Erfasst: 1" in retry["message"], retry["message"]
        done = room.item(clerk, case["id"])
        assert done["state"] == "done" and done["payload"]["ergebnis"] == "erfasst"
        assert (done["payload"]["fall"]["buchungskreis"], done["payload"]["fall"]["kostenstelle"]) == TIEFBAU[:2]
        entry = _entries(room)["JR-FU-2026-0003"]
        assert _routing(entry) == TIEFBAU and done["payload"]["beleg"] == entry["belegnummer"]
        assert "Zuordnung von der Sachbearbeitung korrigiert (Leitweg-ID)" in entry["bemerkung"]
        assert _archived(room)["JR-FU-2026-0003"]["referenz"].split("/")[1] == TIEFBAU[2]
    assert _mail_counts(room) == before


def test_the_robot_takes_an_invoice_from_its_own_mailbox_and_files_the_mail(demo_room, mails):
    """A run without uploads (as a schedule starts it): the robot's own intake takes the mail in its inbox."""
    room = demo_room
    room.deliver(ROBOT, MAILDIR, mails["ubl-bueromaterial"])
    with room.client(CLERK) as clerk:
        run = room.wait(clerk, room.start(clerk, ROBOT))
        assert run["state"] == "succeeded", run["message"]
        assert "Erfasst: 1" in run["message"], run["message"]
        [item] = run["items"]
        message_id = "<erechnung-fulda-ubl-bueromaterial.1@buerobedarf-vogelsberg.example>"
        assert item["reference"] == f"{message_id}#XRechnung_BV-FU-2026-10417.xml", item
        case = room.item(clerk, item["id"])
        assert case["state"] == "done" and case["payload"]["fall"]["leitweg_id"] == SCHOOLS[2]
    assert _routing(_entries(room)["BV-FU-2026-10417"]) == SCHOOLS
    assert room.folder(ROBOT, MAILDIR, "INBOX") == []
    assert [str(m["Message-ID"]).strip() for m in room.folder(ROBOT, MAILDIR, "Erledigt")] == [message_id]
