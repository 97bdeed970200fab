"""An invoice that fails unexpectedly N times in a row goes to a clerk; until then it waits in the inbox.

Runs the e-rechnung process's real consumer step (`Process One Invoice` of processing.resource) on a real
SQLite work item queue, three times as three runs would. The unexpected failure is real too: the work item's
``anlagen`` variable is a number instead of a list, which Robot Framework refuses inside the step (no rathaus
error, so ``Classify Failure`` says ``UNEXPECTED``), before anything is archived, entered or sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rathaus.process.failures import FailureLedger
from rathaus.workitems.queue import open_queue

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "fulda/e-rechnung"
KEY = "<kaputt-1@lieferant.example>#rechnung.xml"

SUITE = """\
*** Settings ***
Resource            e-rechnung/steps/e-rechnung.resource
Suite Setup         Start E-Rechnung Robot    ${CONFIG_FILE}

*** Tasks ***
Rechnungen aus dem Postfach übernehmen
    ${variables}=    Create Dictionary    message_id=<kaputt-1@lieferant.example>    eingang=03.12.2026
    ...    absender=rechnung@lieferant.example    art=rechnung    datei=rechnung.xml    anlagen=${5}
    ...    work_item_key=KEY
    Create Output Work Item    variables=${variables}    files=${INVOICE}    save=True

Rechnungen prüfen und erfassen
    For Each Input Work Item    Process One Invoice
""".replace("work_item_key=KEY", f"work_item_key={KEY}")


def _run(tmp_path: Path, invoice: Path, limit: int) -> str:
    override = tmp_path / "override.yaml"
    override.write_text(
        f"finanzsystem:\n  url: http://127.0.0.1:9/\npruefung:\n  max_fehlversuche: {limit}\n", encoding="utf-8"
    )
    suite = tmp_path / "tasks.robot"
    suite.write_text(SUITE, encoding="utf-8")
    env = {
        **os.environ,
        "RATHAUS_HOME": str(tmp_path / "home"),
        "RATHAUS_CONFIG_OVERRIDE": str(override),
        "RATHAUS_WORKITEMS_DB": str(tmp_path / "workitems.sqlite"),
        "RATHAUS_WORKITEMS_INPUT_QUEUE": QUEUE,
        "RATHAUS_WORKITEMS_OUTPUT_QUEUE": QUEUE,
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("keywords", "sandbox", "processes")),
    }
    return subprocess.run(
        [sys.executable, "-m", "robot", "--output", "NONE", "--log", "NONE", "--report", "NONE", "--console",
         "quiet", "--pythonpath", str(ROOT / "processes"), "--pythonpath", str(ROOT / "resources"),
         "--variable", f"CONFIG_FILE:{ROOT / 'robots/fulda/e-rechnung/config.yaml'}",
         "--variable", f"INVOICE:{invoice}", str(suite)],
        env=env, check=False, cwd=tmp_path, timeout=120, capture_output=True, text=True,
    ).stdout


def _item(tmp_path: Path):
    (item,) = open_queue(tmp_path / "workitems.sqlite").list_items(QUEUE)
    return item


def test_an_unexpected_failure_three_times_in_a_row_hands_the_invoice_to_a_clerk(tmp_path):
    invoice = tmp_path / "rechnung.xml"
    invoice.write_bytes((ROOT.parent / "shared/corpora/xrechnung-testsuite/01.01a-INVOICE_ubl.xml").read_bytes())
    ledger = FailureLedger(tmp_path / "home" / "fulda" / "e-rechnung" / "fehlversuche.json")
    for run in (1, 2):
        output = _run(tmp_path, invoice, limit=3)
        item = _item(tmp_path)
        assert item.code != "UNEXPECTED_ERROR", output
        # stays for the next run, as a technical failure: its mail is not filed
        assert (item.status.value, item.code) == ("failed_application", "UNEXPECTED")
        assert ledger.count(KEY) == run
    _run(tmp_path, invoice, limit=3)
    item = _item(tmp_path)
    assert (item.status.value, item.code) == ("failed_business", "WIEDERHOLT_UNERWARTET")
    assert item.message.startswith(f"{KEY}: Die Verarbeitung ist 3-mal hintereinander mit einem unerwarteten Fehler")
    assert "Die Mail liegt im Ordner Pruefung." in item.message
    entry = json.loads(ledger.path.read_text(encoding="utf-8"))[KEY]
    assert entry["anzahl"] == 3 and "list" in entry["meldung"]


def test_the_ledger_counts_in_a_row_and_a_clear_ends_the_row(tmp_path):
    ledger = FailureLedger(tmp_path / "fehler.json")
    assert ledger.record("a", "x", limit=2).reached is False
    assert ledger.record("b", "y", limit=2).count == 1
    second = ledger.record("a", "ZeroDivisionError: division by zero", limit=2)
    assert second.reached and second.count == 2
    assert "2-mal hintereinander" in second.note and "ZeroDivisionError" in second.note
    assert ledger.clear("a") == 2
    assert ledger.count("a") == 0 and ledger.count("b") == 1
    assert ledger.record("a", "x", limit=2).count == 1
    ledger.path.write_text("kaputt", encoding="utf-8")  # a damaged ledger never blocks a run
    assert ledger.record("a", "x").count == 1
