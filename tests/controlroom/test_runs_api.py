"""Runs, runners and artifacts over HTTP: every role and city boundary, cancelling, bad uploads, the runner API."""

from __future__ import annotations

import io

import pytest
from items_world import api_client, build_world
from rathaus_controlroom.models import AuditEntry, ItemState, Run, RunState, WorkItem
from rathaus_controlroom.services.credentials import save_credential
from rathaus_controlroom.web import sessions
from sqlalchemy import func, select

NUTZUNG = "giessen/nutzungsstatistik"  # owned by Marburg, adopted by Gießen
INCOMPLETE = "Der Upload ist unvollständig angekommen – bitte erneut hochladen; es wurde nichts gestartet."
CUT_TYPE = "multipart/form-data; boundary=grenze"


def cut_off_upload(robot: str, robot_field: str = "robot", keep_part_end: bool = False) -> bytes:
    """A multipart start whose file part was cut off: the closing boundary never arrived (with
    ``keep_part_end`` the file part is complete but the final ``--grenze--`` is missing)."""
    body = (f'--grenze\r\nContent-Disposition: form-data; name="{robot_field}"\r\n\r\n{robot}\r\n'
            '--grenze\r\nContent-Disposition: form-data; name="dateien"; filename="export.csv"\r\n'
            'Content-Type: text/csv\r\n\r\ndatum;aufrufe\n2025-01;1').encode()
    return body + b"2\n\r\n" if keep_part_end else body


@pytest.fixture
def world(db):
    return build_world(db)


@pytest.fixture
def api(world, tmp_path):
    with api_client(world, tmp_path / "daten") as (client, settings):
        client.world, client.settings = world, settings
        yield client


def _as(api, user):
    return api.world.headers(user)


def _runner(api, admin="giessen.admin", name="runner-1"):
    answer = api.post("/api/runners", json={"name": name}, headers=_as(api, admin))
    assert answer.status_code == 201, answer.text
    assert answer.json()["token"].startswith("rr_")
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _start_with_upload(api, user="giessen.clerk", robot=NUTZUNG, files=None, **fields):
    files = files or [("dateien", ("export.csv", b"datum;aufrufe\n2025-01;12\n", "text/csv"))]
    return api.post("/api/runs", data={"robot": robot, **fields}, files=files, headers=_as(api, user))


def _held_run_with_artifact(api):
    """A Gießen run with an upload, claimed by a Gießen runner that uploaded its log."""
    started = _start_with_upload(api, betreff="Januar")
    assert started.status_code == 201, started.text
    runner = _runner(api)
    job = api.post("/api/runner/claim", headers=runner).json()
    assert job["run"] == started.json()["id"]
    log = b"<html><body>Robot-Protokoll</body></html>"
    answer = api.post(f"/api/runner/runs/{job['run']}/artifacts", data={"name": "log.html"},
                      files={"datei": ("log.html", log, "text/html")}, headers=runner)
    assert answer.status_code == 201, answer.text
    return job, runner


def test_a_clerk_starts_a_robot_of_the_city_with_json_inputs(api):
    answer = api.post("/api/runs", json={"robot": NUTZUNG, "inputs": [
        {"reference": "januar", "payload": {"monat": "2025-01"}}, {"payload": {"monat": "2025-02"}}]},
        headers=_as(api, "giessen.clerk"))
    assert answer.status_code == 201, answer.text
    run = answer.json()
    assert (run["robot"], run["state"], run["cases_total"], run["requested_by"]) == (
        NUTZUNG, "queued", 2, "giessen.clerk")
    assert [i["reference"] for i in run["items"]] == ["januar", f"lauf-{run['id']}-2"]
    with api.world.db.session() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "start_run"))
        assert (entry.actor, entry.city_id, entry.object_id) == ("giessen.clerk", "giessen", str(run["id"]))
        assert "2025-01" not in str(entry.detail)


def test_robots_are_listed_by_city_and_only_own_robots_start(api):
    robots = api.get("/api/robots", headers=_as(api, "marburg.clerk")).json()
    assert [r["robot"] for r in robots] == ["marburg/nutzungsstatistik"]
    owner = api.get("/api/robots", headers=_as(api, "marburg.owner")).json()
    assert {r["robot"]: r["startable"] for r in owner} == {NUTZUNG: False, "marburg/nutzungsstatistik": True}
    assert len(api.get("/api/robots", headers=_as(api, "betrieb")).json()) == 4
    assert api.post("/api/runs", json={"robot": NUTZUNG}, headers=_as(api, "marburg.clerk")).status_code == 404
    assert api.post("/api/runs", json={"robot": NUTZUNG}, headers=_as(api, "marburg.owner")).status_code == 404
    refused = api.post("/api/runs", json={"robot": NUTZUNG}, headers=_as(api, "betrieb"))
    assert refused.status_code == 403
    assert "Betrieb startet keine Roboter" in refused.json()["detail"]
    assert api.post("/api/runs", json={"robot": "marburg/nutzungsstatistik"},
                    headers=_as(api, "marburg.owner")).status_code == 201
    assert api.get("/api/runs", headers=_as(api, "marburg.clerk")).status_code == 200
    assert api.get("/api/robots").status_code == 401


def test_another_city_gets_404_for_the_run_its_artifacts_and_items(api):
    job, _ = _held_run_with_artifact(api)
    run_id, item = job["run"], job["inputs"][0]
    item_url = f"/api/runs/{run_id}/inputs/{item['id']}/files/export.csv"
    own = _as(api, "giessen.clerk")
    assert api.get(f"/api/runs/{run_id}", headers=own).json()["items"][0]["files"] == ["export.csv"]
    assert api.get(item_url, headers=own).content == b"datum;aufrufe\n2025-01;12\n"
    log = api.get(f"/api/runs/{run_id}/artifacts/log.html", headers=own)
    assert log.headers["content-type"].startswith("text/html")
    assert b"Robot-Protokoll" in log.content
    assert [a["kind"] for a in api.get(f"/api/runs/{run_id}/artifacts", headers=own).json()] == ["log"]

    marburg = _as(api, "marburg.clerk")
    for url in (f"/api/runs/{run_id}", f"/api/runs/{run_id}/progress", f"/api/runs/{run_id}/artifacts",
                f"/api/runs/{run_id}/artifacts/log.html", item_url, f"/api/items/{item['id']}"):
        answer = api.get(url, headers=marburg)
        assert answer.status_code == 404, url
        assert "Robot-Protokoll" not in answer.text
    assert api.post(f"/api/runs/{run_id}/cancel", headers=marburg).status_code == 404
    assert api.get("/api/runs", headers=marburg).json()["total"] == 0

    # the operator sees the platform state, no case data
    seen = api.get(f"/api/runs/{run_id}", headers=_as(api, "betrieb")).json()
    assert (seen["state"], seen["case_data"], seen["items"], seen["requested_by"]) == ("running", False, None, None)
    for url in (f"/api/runs/{run_id}/artifacts", f"/api/runs/{run_id}/artifacts/log.html", item_url):
        assert api.get(url, headers=_as(api, "betrieb")).status_code == 404
    # Marburg owns the process: statistics of Gießen's run, never its case data
    owner = _as(api, "marburg.owner")
    seen = api.get(f"/api/runs/{run_id}", headers=owner).json()
    assert (seen["cases_total"], seen["items"]) == (1, None)
    assert api.get("/api/runs", headers=owner).json()["total"] == 1
    for url in (f"/api/runs/{run_id}/artifacts", f"/api/runs/{run_id}/artifacts/log.html", item_url):
        assert api.get(url, headers=owner).status_code == 404
    assert api.post(f"/api/runs/{run_id}/cancel", headers=owner).status_code == 403


def test_the_history_filters_by_robot_state_and_day(api):
    world = api.world
    ids = [api.post("/api/runs", json={"robot": r}, headers=_as(api, "giessen.clerk")).json()["id"]
           for r in (NUTZUNG, "giessen/unterhaltsvorschuss", NUTZUNG)]
    api.post(f"/api/runs/{ids[0]}/cancel", headers=_as(api, "giessen.clerk"))
    marburg = api.post("/api/runs", json={"robot": "marburg/nutzungsstatistik"}, headers=_as(api, "marburg.clerk"))
    clerk = _as(api, "giessen.clerk")
    listed = api.get("/api/runs", headers=clerk).json()
    assert [r["id"] for r in listed["runs"]] == ids[::-1]
    assert [r["id"] for r in api.get("/api/runs?robot=nutzungsstatistik", headers=clerk).json()["runs"]] == [
        ids[2], ids[0]]
    assert [r["id"] for r in api.get("/api/runs?state=cancelled", headers=clerk).json()["runs"]] == [ids[0]]
    page = api.get("/api/runs?per_page=2&page=2", headers=clerk).json()
    assert (page["total"], [r["id"] for r in page["runs"]]) == (3, [ids[0]])
    assert api.get("/api/runs?since=2000-01-01&until=2000-12-31", headers=clerk).json()["total"] == 0
    assert api.get("/api/runs?since=2000-01-01", headers=clerk).json()["total"] == 3
    bad = api.get("/api/runs?since=31.12.2025", headers=clerk)
    assert bad.status_code == 422 and "JJJJ-MM-TT" in bad.json()["detail"]
    assert api.get("/api/runs?state=kaputt", headers=clerk).status_code == 422
    everything = api.get("/api/runs", headers=_as(api, "betrieb")).json()
    assert everything["total"] == 4 and marburg.json()["id"] in [r["id"] for r in everything["runs"]]
    assert world


def test_cancelling_a_queued_run_hands_its_items_to_the_worklist(api):
    run = _start_with_upload(api).json()
    clerk = _as(api, "giessen.clerk")
    answer = api.post(f"/api/runs/{run['id']}/cancel", headers=clerk)
    assert (answer.status_code, answer.json()["state"]) == (200, "cancelled")
    worklist = api.get("/api/worklist", headers=clerk).json()
    assert [(i["run_id"], i["error_code"]) for i in worklist] == [(run["id"], "LAUF_ABGEBROCHEN")]
    again = api.post(f"/api/runs/{run['id']}/cancel", headers=clerk)
    assert again.status_code == 409 and "schon beendet" in again.json()["detail"]
    runner = _runner(api)
    assert api.post("/api/runner/claim", headers=runner).status_code == 204  # never handed out
    with api.world.db.session() as session:
        assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "cancel_run")) == 1


def test_a_running_run_is_stopped_by_its_runner_at_the_next_heartbeat(api):
    job, runner = _held_run_with_artifact(api)
    url = f"/api/runner/runs/{job['run']}"
    beat = api.post(f"{url}/heartbeat", json={"cases_done": 0, "cases_total": 1}, headers=runner)
    assert beat.json()["cancel"] is False
    answer = api.post(f"/api/runs/{job['run']}/cancel", headers=_as(api, "giessen.admin"))
    assert (answer.json()["state"], answer.json()["cancel_requested"]) == ("running", True)
    assert api.post(f"{url}/heartbeat", json={}, headers=runner).json()["cancel"] is True
    done = api.post(f"{url}/finish", json={"exit_code": -15, "message": "Abgebrochen."}, headers=runner)
    assert done.json()["state"] == "cancelled"
    with api.world.db.session() as session:
        assert session.scalar(select(WorkItem.state).where(WorkItem.run_id == job["run"])) is ItemState.FAILED_BUSINESS


def test_oversized_and_malformed_uploads_change_nothing(api):
    clerk = _as(api, "giessen.clerk")
    big = b"x" * (api.settings.max_upload_bytes + 1)
    answer = _start_with_upload(api, files=[("dateien", ("gross.csv", big, "text/csv"))])
    assert answer.status_code == 413
    assert "zu groß" in answer.json()["detail"] and "nichts gestartet" in answer.json()["detail"]
    for cut in (cut_off_upload(NUTZUNG), cut_off_upload(NUTZUNG, keep_part_end=True)):
        broken = api.post("/api/runs", content=cut, headers={**clerk, "Content-Type": CUT_TYPE})
        assert (broken.status_code, broken.json()["detail"]) == (422, INCOMPLETE), broken.text
    empty = _start_with_upload(api, files=[("dateien", ("leer.csv", b"", "text/csv"))])
    assert (empty.status_code, empty.json()["detail"]) == (
        422, "Die Datei 'leer.csv' ist leer. Bitte die richtige Datei wählen; es wurde nichts gestartet.")
    no_boundary = api.post("/api/runs", content=b"robot=x", headers={**clerk, "Content-Type": "multipart/form-data"})
    assert no_boundary.status_code == 422, no_boundary.text
    assert "fehlerhaft" in no_boundary.json()["detail"]
    not_json = api.post("/api/runs", content=b"{robot:", headers={**clerk, "Content-Type": "application/json"})
    assert (not_json.status_code, not_json.json()["detail"]) == (
        422, "Der Inhalt ist kein gültiges JSON; es wurde nichts gestartet.")
    bad_name = _start_with_upload(api, files=[("dateien", ("..", b"x", "text/plain"))])
    assert bad_name.status_code == 422
    bad_items = api.post("/api/runs", json={"robot": NUTZUNG, "inputs": [{"payload": [1]}]}, headers=clerk)
    assert bad_items.status_code == 422
    duplicate = api.post("/api/runs", json={"robot": NUTZUNG, "inputs": [{"reference": "a"}, {"reference": "a"}]},
                         headers=clerk)
    assert duplicate.status_code == 409
    with api.world.db.session() as session:
        assert session.scalar(select(func.count(Run.id))) == 0
        assert session.scalar(select(func.count(WorkItem.id))) == 0
    assert not (api.settings.data_dir / "uploads").exists()


def test_a_cross_site_request_without_csrf_token_starts_nothing(api):
    user = api.world.who["giessen.clerk"]
    cookie = sessions.issue(api.settings.session_key, user.user_id)
    api.cookies.set(sessions.COOKIE, cookie)
    refused = api.post("/api/runs", data={"robot": NUTZUNG},
                       files=[("dateien", ("export.csv", b"a;b\n", "text/csv"))])
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    token = sessions.csrf_token(api.settings.session_key, cookie)
    accepted = api.post("/api/runs", data={"robot": NUTZUNG, "csrf_token": token},
                        files=[("dateien", ("export.csv", b"a;b\n", "text/csv"))])
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["items"][0]["files"] == ["export.csv"]
    assert api.post(f"/api/runs/{accepted.json()['id']}/cancel").status_code == 403
    assert api.post(f"/api/runs/{accepted.json()['id']}/cancel", headers={"X-CSRF-Token": token}).status_code == 200
    api.cookies.clear()


def test_the_runner_api_keeps_runners_to_their_city_and_their_runs(api):
    world = api.world
    with world.db.session() as session:
        save_credential(session, api.settings, world.who["giessen.admin"], "GIESSEN_GEHEIM", "wert-giessen")
        save_credential(session, api.settings, world.who["marburg.admin"], "MARBURG_GEHEIM", "wert-marburg")
    started = _start_with_upload(api).json()
    giessen = _runner(api)
    marburg = _runner(api, "marburg.admin", "runner-m")
    assert api.post("/api/runner/claim", headers=marburg).status_code == 204
    assert api.post("/api/runner/claim", headers={"Authorization": "Bearer rr_falsch"}).status_code == 401
    assert api.post("/api/runner/claim", headers=_as(api, "giessen.admin")).status_code == 401
    job = api.post("/api/runner/claim", headers=giessen).json()
    assert (job["run"], job["robot"], job["attempt"]) == (started["id"], NUTZUNG, 1)
    assert job["env"] == {"GIESSEN_GEHEIM": "wert-giessen"}
    file_url = job["inputs"][0]["files"][0]["url"]
    assert api.get(file_url, headers=giessen).content.startswith(b"datum;")
    assert api.get(file_url, headers=marburg).status_code == 404
    url = f"/api/runner/runs/{job['run']}"
    assert api.post(f"{url}/heartbeat", json={}, headers=marburg).status_code == 404
    second = _runner(api, name="runner-2")
    assert api.post(f"{url}/heartbeat", json={}, headers=second).status_code == 409
    assert api.post(f"{url}/artifacts", data={"name": "log.html"}, files={"datei": ("l", b"x")},
                    headers=second).status_code == 409
    assert api.post(f"{url}/artifacts", data={"name": "../boese.html"}, files={"datei": ("l", b"x")},
                    headers=giessen).status_code == 422
    beat = api.post(f"{url}/heartbeat", json={"cases_done": 1, "cases_total": 3}, headers=giessen)
    assert beat.status_code == 200
    assert api.get(f"/api/runs/{job['run']}/progress", headers=_as(api, "giessen.clerk")).json()[
        "cases_done"] == 1
    finished = api.post(f"{url}/finish", json={"exit_code": 0, "message": "Lauf beendet.", "items": [
        {"id": job["inputs"][0]["id"], "state": "failed_business", "code": "EXPORT", "message": "Spalte fehlt"}]},
        headers=giessen)
    assert finished.json() == {"id": job["run"], "state": "succeeded"}
    assert api.post(f"{url}/finish", json={"exit_code": 0}, headers=giessen).status_code == 409
    worklist = api.get("/api/worklist", headers=_as(api, "giessen.clerk")).json()
    assert [(i["error_code"], i["error_message"]) for i in worklist] == [("EXPORT", "Spalte fehlt")]
    runners = api.get("/api/runners", headers=_as(api, "giessen.admin")).json()
    assert {r["name"] for r in runners} == {"runner-1", "runner-2"} and "token" not in str(runners[0]["token"])
    assert api.get("/api/runners", headers=_as(api, "giessen.clerk")).status_code == 403
    assert len(api.get("/api/runners", headers=_as(api, "betrieb")).json()) == 3
    with world.db.session() as session:
        run = session.get(Run, job["run"])
        assert (run.state, run.cases_done, run.cases_total) == (RunState.SUCCEEDED, 1, 3)
    off = api.post(f"/api/runners/{runners[0]['id']}/deactivate", headers=_as(api, "giessen.admin"))
    assert off.json()["active"] is False
    assert api.post("/api/runner/claim", headers=giessen).status_code == 401


def test_artifacts_keep_size_and_hash_and_are_replaced_on_reupload(api):
    job, runner = _held_run_with_artifact(api)
    content = io.BytesIO(b"%PDF-1.7 Brief")
    answer = api.post(f"/api/runner/runs/{job['run']}/artifacts", data={"name": "schritt-2/briefe/a.pdf"},
                      files={"datei": ("a.pdf", content, "application/pdf")}, headers=runner)
    assert (answer.json()["kind"], answer.json()["size"]) == ("letter", 14)
    api.post(f"/api/runner/runs/{job['run']}/artifacts", data={"name": "log.html"},
             files={"datei": ("log.html", b"<html>neu</html>", "text/html")}, headers=runner)
    listed = {a["name"]: a for a in api.get(f"/api/runs/{job['run']}/artifacts",
                                            headers=_as(api, "giessen.clerk")).json()}
    assert set(listed) == {"log.html", "schritt-2/briefe/a.pdf"}
    import hashlib

    assert listed["log.html"]["sha256"] == hashlib.sha256(b"<html>neu</html>").hexdigest()
    pdf = api.get(f"/api/runs/{job['run']}/artifacts/schritt-2/briefe/a.pdf", headers=_as(api, "giessen.admin"))
    assert (pdf.headers["content-type"], pdf.content) == ("application/pdf", b"%PDF-1.7 Brief")
    stored = api.settings.data_dir / "artifacts" / "giessen" / str(job["run"]) / "schritt-2" / "briefe" / "a.pdf"
    assert stored.read_bytes() == b"%PDF-1.7 Brief"


def test_a_cut_off_upload_with_a_valid_robot_starts_nothing(api):
    complete = cut_off_upload(NUTZUNG) + b"2\n\r\n--grenze--\r\n"
    clerk = {**_as(api, "giessen.clerk"), "Content-Type": CUT_TYPE}
    cut = api.post("/api/runs", content=cut_off_upload(NUTZUNG), headers=clerk)
    assert (cut.status_code, cut.json()["detail"]) == (422, INCOMPLETE)
    with api.world.db.session() as session:
        assert session.scalar(select(func.count(Run.id))) == 0
        assert session.scalar(select(func.count(WorkItem.id))) == 0
    assert not (api.settings.data_dir / "uploads").exists()
    whole = api.post("/api/runs", content=complete, headers=clerk)  # the same upload, complete, is accepted
    assert whole.status_code == 201, whole.text
    assert whole.json()["items"][0]["files"] == ["export.csv"]


def test_run_messages_are_shown_only_to_the_run_s_city(api):
    job, runner = _held_run_with_artifact(api)
    secret = "Rechnung RE-2025-0042 aus <abc@lieferant.example> unlesbar: /daten/eingang/re.pdf"
    done = api.post(f"/api/runner/runs/{job['run']}/finish", json={"exit_code": 1, "message": secret},
                    headers=runner)
    assert done.status_code == 200, done.text
    url = f"/api/runs/{job['run']}"
    assert api.get(url, headers=_as(api, "giessen.clerk")).json()["message"] == secret
    for user in ("betrieb", "marburg.owner"):  # platform state and the process owner's statistics only
        answer = api.get(url, headers=_as(api, user))
        assert answer.status_code == 200, (user, answer.text)
        assert answer.json()["message"] == "Meldung nur für die Stadt des Laufs sichtbar.", user
        listed = api.get("/api/runs", headers=_as(api, user)).json()["runs"]
        assert secret not in str(listed), user


def test_artifacts_and_uploads_leave_sandboxed_and_not_sniffed(api):
    job, runner = _held_run_with_artifact(api)
    api.post(f"/api/runner/runs/{job['run']}/artifacts", data={"name": "brief.pdf"},
             files={"datei": ("brief.pdf", b"%PDF-1.4 Brief", "application/pdf")}, headers=runner)
    clerk = _as(api, "giessen.clerk")
    log = api.get(f"/api/runs/{job['run']}/artifacts/log.html", headers=clerk)
    assert log.status_code == 200
    assert log.headers["content-security-policy"].startswith("sandbox")
    assert log.headers["x-content-type-options"] == "nosniff"
    assert log.headers["content-disposition"].startswith("inline")
    letter = api.get(f"/api/runs/{job['run']}/artifacts/brief.pdf", headers=clerk)
    assert letter.status_code == 200, letter.text
    assert letter.headers["content-disposition"].startswith("attachment")
    assert letter.headers["content-security-policy"].startswith("sandbox")
    item = api.get(f"/api/runs/{job['run']}", headers=clerk).json()["items"][0]
    upload = api.get(f"/api/runs/{job['run']}/inputs/{item['id']}/files/export.csv", headers=clerk)
    assert upload.status_code == 200 and upload.content.startswith(b"datum;aufrufe")
    assert upload.headers["content-disposition"].startswith("attachment")
    assert upload.headers["x-content-type-options"] == "nosniff"


def test_openapi_documents_the_start_body_bearer_tokens_errors_and_statistics(api):
    spec = api.get("/api/openapi.json").json()
    start = spec["paths"]["/api/runs"]["post"]
    assert set(start["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert "dateien" in start["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    as_json = start["requestBody"]["content"]["application/json"]["schema"]
    assert as_json["required"] == ["robot"]
    assert set(as_json["properties"]["inputs"]["items"]["properties"]) == {"reference", "payload", "priority"}
    assert spec["components"]["securitySchemes"]["ApiToken"] == {
        "type": "http", "scheme": "bearer",
        "description": "API-Token (rathaus tokens create NAME) als 'Authorization: Bearer rh_…'."}
    assert {"ApiToken": []} in start["security"]
    assert {"401", "403", "404", "413", "422"} <= set(start["responses"])
    assert "/api/runs/statistics" in spec["paths"]


def test_run_statistics_over_the_api_count_by_state_without_case_data(api):
    assert _start_with_upload(api).status_code == 201
    owner = api.get("/api/runs/statistics", headers=_as(api, "marburg.owner"))
    assert owner.status_code == 200, owner.text
    assert owner.json() == [{"city": "giessen", "process": "nutzungsstatistik", "state": "queued", "count": 1}]
    assert api.get("/api/runs/statistics", headers=_as(api, "betrieb")).json() == owner.json()
    assert api.get("/api/runs/statistics?since=2999-01-01", headers=_as(api, "betrieb")).json() == []
    assert api.get("/api/runs/statistics", headers=_as(api, "marburg.clerk")).json() == []
    assert api.get("/api/runs/statistics?since=gestern", headers=_as(api, "betrieb")).status_code == 422
    assert api.get("/api/runs/statistics").status_code == 401
