"""The clerk's case: uploads become cases as the process declares, the case page (documents, case data from the
schema, letters, attempts), corrections validated in German, the worklist's filters and the run's honest outcome."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from items_world import UVG_CASE, api_client, application_mail, build_world
from rathaus_controlroom.models import ItemState, Run, RunState, WorkItem, WorkItemAttempt
from rathaus_controlroom.services import items, runs
from rathaus_controlroom.services.errors import Conflict, Invalid
from sqlalchemy import select
from uihelpers import Room, csrf, make_room, token_of, waiting_cases

UVG = "giessen/unterhaltsvorschuss"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
MISSING = {**UVG_CASE, "antragsteller": {**UVG_CASE["antragsteller"], "iban": ""}}


@pytest.fixture
def world(db):
    return build_world(db)


def _upload(world, tmp_path, files, robot=UVG, user="giessen.clerk"):
    with world.db.session() as session:
        inputs = runs.build_inputs(files, {}, 10_000_000)
        return runs.start_run(session, world.who[user], robot, inputs, data_dir=tmp_path).id


def _items(world, run_id):
    with world.db.session() as session:
        return [(i.reference, i.payload) for i in session.scalars(
            select(WorkItem).where(WorkItem.run_id == run_id).order_by(WorkItem.id))]


def test_each_eml_is_one_case_and_loose_files_of_one_upload_form_one_case(world, tmp_path):
    run_id = _upload(world, tmp_path, [("a.eml", application_mail(1)), ("b.eml", application_mail(2)),
                                       ("Antrag_Weiss.pdf", b"%PDF-1 a"), ("Geburtsurkunde.pdf", b"%PDF-1 g")])
    cases = _items(world, run_id)
    assert [(ref, payload["dateien"]) for ref, payload in cases] == [
        ("<antrag-1@example.org>", ["Antrag.pdf", "Geburtsurkunde.pdf"]),
        ("<antrag-2@example.org>", ["Antrag.pdf", "Geburtsurkunde.pdf"]),
        (f"lauf-{run_id}-3", ["Antrag_Weiss.pdf", "Geburtsurkunde.pdf"])]
    assert {payload["quelle"] for _, payload in cases} == {"upload"}
    assert cases[2][1]["referenz"] == f"lauf-{run_id}-3" and "message_id" not in cases[2][1]
    # the same mails again: each named with its case and Aktenzeichen, nothing started
    with world.db.session() as session:
        session.scalar(select(WorkItem).where(WorkItem.run_id == run_id)).payload = {
            **cases[0][1], "aktenzeichen": "UVG-2026-000001"}
    with pytest.raises(Conflict, match=r"<antrag-1@example.org> ist schon Fall \d+ \(wartet auf den Roboter, "
                       r"Aktenzeichen UVG-2026-000001\); Die Mail <antrag-2@example.org> ist schon Fall") as known:
        _upload(world, tmp_path, [("a.eml", application_mail(1)), ("b.eml", application_mail(2))])
    assert [case["aktenzeichen"] for case in known.value.details["bereits_vorhanden"]] == ["UVG-2026-000001", None]
    # a known mail beside a new one: the new one is started, the known one only reported
    again = _upload(world, tmp_path, [("a.eml", application_mail(1)), ("c.eml", application_mail(3))])
    assert [ref for ref, _ in _items(world, again)] == ["<antrag-3@example.org>"]


@pytest.mark.parametrize(("files", "message"), [
    ([("antrag.docx", b"PK..")], "Die Datei 'antrag.docx' hat einen Dateityp, den der Roboter"),
    ([("ohne.eml", application_mail(3, attachments=()))], "Die Mail 'ohne.eml' hat keinen Anhang"),
    ([("kaputt.eml", b"\x00\x01\x02")], "Die Datei 'kaputt.eml' ist keine Mail"),
])
def test_a_file_the_process_does_not_take_starts_nothing_and_says_what_to_do(world, tmp_path, files, message):
    with pytest.raises(Invalid, match=message) as refused:
        _upload(world, tmp_path, files)
    assert "es wurde nichts gestartet" in str(refused.value).lower() or "Es wurde nichts gestartet" in str(
        refused.value)
    with world.db.session() as session:
        assert session.scalar(select(Run.id)) is None
    assert not (tmp_path / "uploads").exists()


def _failed(world, tmp_path) -> int:
    run_id = _upload(world, tmp_path, [("a.eml", application_mail(1))])
    with world.db.session() as session:
        item = session.scalar(select(WorkItem).where(WorkItem.run_id == run_id))
        item.payload = {**item.payload, "fall": MISSING, "aktenzeichen": "UVG-2026-000007",
                        "dateien": [*item.payload["dateien"], "UVG-2026-000007-nachforderung.pdf"]}
        (tmp_path / "uploads" / "giessen" / str(item.id) / "UVG-2026-000007-nachforderung.pdf").write_bytes(b"%PDF")
        session.add(WorkItemAttempt(city_id="giessen", item_id=item.id, run_id=run_id, number=1,
                                    state="failed_business", code="PFLICHTANGABEN_FEHLEN",
                                    message="IBAN fehlt", started_at=T0, finished_at=T0))
        items.record_item_result(session, item, ItemState.FAILED_BUSINESS, "PFLICHTANGABEN_FEHLEN", "IBAN fehlt")
        session.get(Run, run_id).state = RunState.SUCCEEDED
        return item.id


def test_the_clerk_of_the_city_sees_the_case_with_its_schema_and_corrects_it(world, tmp_path):
    item_id = _failed(world, tmp_path)
    with api_client(world, tmp_path) as (client, _):
        clerk = world.headers("giessen.clerk")
        one = client.get(f"/api/items/{item_id}", headers=clerk).json()
        assert one["payload"]["fall"] == MISSING and one["payload"]["quelle"] == "upload"
        assert one["schema"]["properties"]["antragsteller"]["properties"]["iban"]["title"] == "IBAN"
        assert client.get("/api/items", headers=clerk).json()[0]["schema"] is None
        bad = client.post(f"/api/items/{item_id}/retry", json={"payload": MISSING}, headers=clerk)
        assert bad.status_code == 422 and "Antragstellende Person: IBAN fehlt" in bad.json()["detail"]
        other = client.post(f"/api/items/{item_id}/retry", json={"payload": {**one["payload"], "quelle": "x"}},
                            headers=clerk)
        assert other.status_code == 422 and "korrigiert werden nur die Falldaten" in other.json()["detail"]
        fixed = {**one["payload"], "fall": UVG_CASE}  # the payload as GET gives it, with corrected case data
        done = client.post(f"/api/items/{item_id}/retry", json={"payload": fixed}, headers=clerk)
        assert done.status_code == 200 and done.json()["state"] == "new"
        assert done.json()["payload"]["fall"] == UVG_CASE
        document = client.get(f"/api/items/{item_id}/files/Antrag.pdf", headers=clerk)
        assert document.status_code == 200 and document.headers["content-type"] == "application/pdf"
        assert document.headers["content-disposition"].startswith("inline")
        assert document.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in document.headers["content-security-policy"]
        assert client.get(f"/api/items/{item_id}/files/..%2Fx", headers=clerk).status_code == 404


@pytest.mark.parametrize("user", ["marburg.clerk", "fulda.clerk", "marburg.admin"])
def test_another_citys_clerk_gets_404_for_the_case_and_its_files(world, tmp_path, user):
    item_id = _failed(world, tmp_path)
    with api_client(world, tmp_path) as (client, _):
        for path in (f"/api/items/{item_id}", f"/api/items/{item_id}/files/Antrag.pdf"):
            answer = client.get(path, headers=world.headers(user))
            assert answer.status_code == 404 and "IBAN" not in answer.text
        answer = client.post(f"/api/items/{item_id}/retry", json={"payload": UVG_CASE}, headers=world.headers(user))
        assert answer.status_code == 404


@pytest.mark.parametrize("user", ["giessen.owner", "marburg.owner", "betrieb"])
def test_owners_and_operators_see_no_case_data(world, tmp_path, user):
    item_id = _failed(world, tmp_path)
    with api_client(world, tmp_path) as (client, _):
        for path in (f"/api/items/{item_id}", f"/api/items/{item_id}/files/Antrag.pdf"):
            answer = client.get(path, headers=world.headers(user))
            assert answer.status_code in (403, 404) and "Beispiel" not in answer.text and "%PDF" not in answer.text


@pytest.fixture
def room(tmp_path) -> Room:
    room = make_room(tmp_path / "data")
    yield room
    room.db.dispose()


def _room_case(room: Room) -> tuple[int, int]:
    run_id = waiting_cases(room)
    with room.db.session() as session:
        second = session.scalar(select(WorkItem.id).where(WorkItem.reference == "<antrag-2@example.org>"))
    return run_id, second


def test_the_run_page_says_honestly_that_cases_wait_for_a_clerk(room):
    run_id, _ = _room_case(room)
    page = room.client("gi.clerk").get(f"/laeufe/{run_id}").text
    assert "3 Fälle: 1 eingetragen, 2 warten auf die Sachbearbeitung." in page
    assert f'href="/arbeitsliste?lauf={run_id}"' in page and "Die 2 wartenden Fälle" in page
    assert 'class="state state-waiting"' in page and "3 von 3 Fällen erledigt" not in page
    listed = room.client("gi.clerk").get(f"/arbeitsliste?lauf={run_id}").text
    assert listed.count('href="/arbeitsliste/') == 2


def test_the_worklist_filters_searches_and_shows_closed_cases_apart(room):
    _, waiting = _room_case(room)
    client = room.client("gi.clerk")
    assert client.get("/arbeitsliste?suche=antrag-2").text.count('href="/arbeitsliste/') == 1
    assert client.get("/arbeitsliste?code=PFLICHTANGABEN_FEHLEN").text.count('href="/arbeitsliste/') == 2
    assert "Keine Fälle für diese Auswahl" in client.get("/arbeitsliste?code=ANDERS").text
    assert "Keine Fälle" in client.get("/arbeitsliste?roboter=unterhaltsvorschuss&von=2999-01-01").text
    done = client.get("/arbeitsliste?ansicht=erledigt&suche=UVG-2026-000001").text
    assert "&lt;antrag-1@example.org&gt;" in done and "UVG-2026-000001" in done
    with room.db.session() as session:
        items.close_item(session, room.principals["gi.clerk"], waiting, "Antrag zurückgezogen")
    closed = client.get("/arbeitsliste?ansicht=abgeschlossen").text
    assert "Antrag zurückgezogen" in closed and "antrag-2@example.org" in closed
    assert "antrag-2@example.org" not in client.get("/arbeitsliste").text
    assert "antrag-2@example.org" not in client.get("/arbeitsliste?ansicht=erledigt").text
    assert client.get("/arbeitsliste?von=kaputt").status_code == 422


def test_the_case_page_shows_documents_in_the_page_letters_and_the_form(room):
    _, waiting = _room_case(room)
    client = room.client("gi.clerk")
    page = client.get(f"/arbeitsliste/{waiting}").text
    assert f'<iframe class="document" src="/arbeitsliste/{waiting}/dateien/Antrag.pdf#navpanes=0' in page
    assert "<legend>Kind</legend>" in page and "Korrigieren und erneut versuchen" in page
    facts = page.split('<dl class="facts"')[1].split("</dl>")[0]
    assert "<dt>Roboter</dt><dd>Unterhaltsvorschuss – Antragseingang</dd>" in facts  # its title, not the key
    assert re.search(r"Upload im Kontrollraum am \d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr; Eingangsdatum laut Unterlagen "
                     r"02\.11\.2026", facts), facts
    assert "Der Roboter hat diesen Fall noch nicht bearbeitet." in page  # no attempts recorded yet
    with room.db.session() as session:
        session.add(WorkItemAttempt(city_id="giessen", item_id=waiting, run_id=None, number=1, state="failed_business",
                                    code="PFLICHTANGABEN_FEHLEN", message="IBAN fehlt", started_at=T0, finished_at=T0))
    history = client.get(f"/arbeitsliste/{waiting}").text.split('id="verlauf"')[1]
    assert "<th scope=\"row\">Versuch 1</th>" in history and "<code>PFLICHTANGABEN_FEHLEN</code>" in history
    assert "Mo 02.11.2026" not in history and "02.11.2026, 09:00 Uhr" in history  # Berlin time
    pdf = client.get(f"/arbeitsliste/{waiting}/dateien/Antrag.pdf")
    assert pdf.headers["content-disposition"].startswith("inline")
    assert "frame-ancestors 'self'" in pdf.headers["content-security-policy"]
    assert room.client("mr.clerk").get(f"/arbeitsliste/{waiting}/dateien/Antrag.pdf").status_code == 404
    assert room.client("ops").get(f"/arbeitsliste/{waiting}").status_code in (403, 404)



def _posteingang_case(room: Room) -> int:
    """A Limburg mail the rules could not route, waiting for the clerk of Limburg (``li.clerk``)."""
    from email.message import EmailMessage

    from rathaus_controlroom.models import Role
    from rathaus_controlroom.services.users import Principal, add_user
    from uihelpers import PASSWORD

    mail = EmailMessage()
    mail["From"], mail["Subject"], mail["Message-ID"] = "Ayşe Öztürk <ayse@example.net>", "Baustelle", "<laerm@x.de>"
    mail.set_content("Die Baustelle vor unserem Haus ist ab 6 Uhr laut.")
    with room.db.session() as session:
        clerk = Principal.of(add_user(session, "li.clerk", Role.CLERK, PASSWORD, city="limburg"))
        inputs = runs.build_inputs([("laerm.eml", mail.as_bytes())], {}, 10_000_000)
        run = runs.start_run(session, clerk, room.robot("limburg", "posteingang"), inputs,
                             data_dir=room.settings.data_dir)
        item = session.scalar(select(WorkItem).where(WorkItem.run_id == run.id))
        item.payload = {**item.payload, "fall": {**POST_CASE}}
        items.record_item_result(session, item, ItemState.FAILED_BUSINESS, "GLEICHSTAND", "Zuordnung nicht eindeutig")
        run.state = RunState.SUCCEEDED
        return item.id


POST_CASE = {"absender": "Ayşe Öztürk <ayse@example.net>", "betreff": "Baustelle", "eingang": "02.11.2026",
             "fachbereich": None, "bemerkung": None, "text": "Die Baustelle vor unserem Haus ist ab 6 Uhr laut."}


def test_the_clerk_chooses_a_department_of_the_city_by_name_and_reads_the_text_the_robot_read(room):
    item_id = _posteingang_case(room)
    client = room.client("li.clerk")
    page = client.get(f"/arbeitsliste/{item_id}").text
    # Limburg's departments by their names (resources/cities/limburg/posteingang.yaml), not keys to type
    assert '<option value="ordnungsamt">Fachdienst Sicherheit und Ordnung</option>' in page
    assert '<option value="bauamt">Fachdienst Stadtplanung und Bauen</option>' in page
    # the text the rules read: shown read-only, not a field of the form
    text_area = page.split('id="fall-text"')[1].split("</textarea>")[0]
    assert "readonly" in text_area and 'name="fall.text"' not in text_area
    assert "ab 6 Uhr laut." in text_area and "nicht änderbar" in page

    form = {"csrf_token": csrf(page), "fall.absender": POST_CASE["absender"], "fall.betreff": "Baustelle",
            "fall.eingang": "02.11.2026", "fall.fachbereich": "rathaus", "fall.bemerkung": ""}
    refused = client.post(f"/arbeitsliste/{item_id}/wiederholen", data=form)
    assert refused.status_code == 422
    assert "Zuständiger Fachbereich: &#39;rathaus&#39; ist nicht erlaubt" in refused.text
    assert "Fachdienst Sicherheit und Ordnung" in refused.text.split('id="fall-fachbereich-fehler"')[1][:800]
    assert "ab 6 Uhr laut." in refused.text.split('id="fall-text"')[1].split("</textarea>")[0]

    done = client.post(f"/arbeitsliste/{item_id}/wiederholen", data={**form, "fall.fachbereich": "ordnungsamt"})
    assert done.status_code == 303
    with room.db.session() as session:
        assert session.get(WorkItem, item_id).payload["fall"] == {**POST_CASE, "fachbereich": "ordnungsamt",
                                                                  "bemerkung": None}


def test_the_api_offers_the_citys_departments_and_refuses_a_changed_text_the_robot_read(room):
    item_id = _posteingang_case(room)
    client = room.client("li.clerk")
    one = client.get(f"/api/items/{item_id}").json()
    department = one["schema"]["properties"]["fachbereich"]
    assert department["enum"][-1] is None and "ordnungsamt" in department["enum"] and "jugendamt" in department["enum"]
    assert department["x-titel"]["ordnungsamt"] == "Fachdienst Sicherheit und Ordnung"
    headers = {"X-CSRF-Token": token_of(client)}
    changed = client.post(f"/api/items/{item_id}/retry", headers=headers,
                          json={"payload": {**POST_CASE, "text": "etwas anderes", "fachbereich": "bauamt"}})
    assert changed.status_code == 422, changed.text
    assert "„Gelesener Text“ hat der Roboter aus den Unterlagen gelesen" in changed.json()["detail"]
    assert client.post(f"/api/items/{item_id}/retry", headers=headers,
                       json={"payload": {**POST_CASE, "fachbereich": "bauamt"}}).status_code == 200
