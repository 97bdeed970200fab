"""The official verdict (a KoSIT validator configuration on saxonche) beside the built-in rules.

The configuration is ``../shared/corpora/kosit-xrechnung-config`` (XRechnung 3.0.2), referenced from the
project root and never copied. Its stylesheets are compiled once for the whole module (about 1.5 s).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rathaus.einvoice import EInvoice
from rathaus.einvoice.errors import EInvoiceError, KositConfigurationError, NotXmlError
from rathaus.einvoice.kosit import KositConfiguration, check_invoice_file
from rathaus.einvoice.reader import read_invoice_data
from rathaus.einvoice.rules import invoice_findings
from support.einvoice_variants import CORPUS, KOSIT, invalid, valid

ROOT = Path(__file__).resolve().parents[2]

#: What the official rules say on the project's invalid invoices: the rule ids at level error.
OFFICIAL = {
    "BR-CO-16_ubl": ["BR-CO-16"],
    "BR-CO-10_uncefact": ["BR-CO-10", "BR-CO-13"],
    "two-BT-110_ubl": ["BR-CO-15", "PEPPOL-EN16931-R053"],
    "BR-09_ubl": ["BR-09"],
    "BR-CL-01_ubl": ["BR-CL-01"],
    "BR-CL-06_uncefact": ["BR-CL-06"],
    "BR-CL-24_ubl": ["BR-CL-24"],
    "BR-DEC-23_ubl": ["BR-DEC-23", "UBL-DT-01"],
    "BR-O_ubl": ["BR-O-01", "BR-O-02", "BR-S-08", "BR-O-05"],
    "BR-DE-1_ubl": ["BR-DE-1"],
    "BR-DE-3_ubl": ["BR-DE-3"],
    "CII-SR-452_uncefact": ["CII-SR-452", "CII-SR-453"],
    "CII-SR-454_uncefact": ["CII-SR-454"],
    "SCHEMA_ubl": ["SCHEMA"],
    "XRechnung-1.2_ubl": ["NO-SCENARIO"],
}

#: Invalid invoices that the built-in rules accept: each is listed in docs/einvoice-rules.md. The test fails
#: when the built-in rules change on any of them, so that list stays true.
BUILT_IN_ACCEPTS = {
    "BR-09_ubl", "BR-CL-01_ubl", "BR-CL-06_uncefact", "BR-CL-24_ubl", "BR-O_ubl", "BR-DE-1_ubl", "BR-DE-3_ubl",
    "CII-SR-452_uncefact", "CII-SR-454_uncefact", "SCHEMA_ubl", "XRechnung-1.2_ubl",
}


@pytest.fixture(scope="module")
def kosit() -> KositConfiguration:
    return KositConfiguration.load(KOSIT)


def _built_in(data: bytes, name: str) -> list[str]:
    try:
        return [finding.rule for finding in invoice_findings(read_invoice_data(data, name))]
    except EInvoiceError as error:
        return [error.rule]


def test_every_file_of_the_official_test_suite_is_accepted_by_both(kosit):
    files = sorted(CORPUS.glob("*.xml"))
    assert len(files) == 66
    for file in files:
        verdict = kosit.check_file(file)
        assert verdict.accepted, (file.name, verdict.errors)
        expected = "EN16931 XRechnung (UBL Invoice)" if file.name.endswith("_ubl.xml") else "EN16931 XRechnung (CII)"
        assert verdict.scenario == expected
        assert _built_in(file.read_bytes(), file.name) == [], file.name


@pytest.mark.parametrize("variant", invalid(), ids=lambda v: v.name)
def test_the_official_rules_reject_each_invalid_invoice_and_the_built_in_differences_are_known(kosit, variant):
    verdict = kosit.check_data(variant.data, f"{variant.name}.xml")
    assert not verdict.accepted
    assert verdict.rules == OFFICIAL[variant.name]
    assert all(message.level == "error" and message.text for message in verdict.errors)
    built_in = _built_in(variant.data, variant.name)
    assert (not built_in) == (variant.name in BUILT_IN_ACCEPTS), built_in


def test_the_project_makes_an_invalid_invoice_for_every_rule_family():
    assert {v.family for v in invalid()} >= {
        "BR", "BR-CO", "BR-CL", "BR-DEC", "BR-O", "BR-DE", "CII-SR", "SCHEMA", "NO-SCENARIO",
    }
    assert set(OFFICIAL) == {v.name for v in invalid()}


@pytest.mark.parametrize("variant", valid(), ids=lambda v: v.name)
def test_valid_invoices_the_built_in_rules_once_rejected_are_accepted_by_both(kosit, variant):
    verdict = kosit.check_data(variant.data, f"{variant.name}.xml")
    assert verdict.accepted, verdict.errors
    assert _built_in(variant.data, variant.name) == []


def test_the_extension_scenario_turns_br_co_16_into_information(kosit):
    (variant,) = [v for v in valid() if v.name.startswith("extension")]
    verdict = kosit.check_data(variant.data, "x.xml")
    assert verdict.scenario == "EN16931 XRechnung Extension (UBL Invoice)"
    assert "BR-CO-16" in [message.rule for message in verdict.information]
    assert [m.level for m in verdict.information if m.rule == "BR-CO-16"] == ["information"]
    broken = re.sub(rb"(<cbc:PayableAmount[^>]*>)[^<]+", rb"\g<1>436.91", variant.data)
    assert _built_in(broken, "x.xml") == ["BR-DEX-09"]
    assert kosit.check_data(broken, "x.xml").rules == ["BR-DEX-09"]


def test_a_warning_never_rejects(kosit):
    (variant,) = [v for v in valid() if v.name.startswith("unit-code")]
    verdict = kosit.check_data(variant.data, "x.xml")
    assert verdict.accepted and "BR-CL-23" in [w.rule for w in verdict.warnings]
    assert verdict.warnings[0].location.startswith("/")


def test_the_configuration_is_compiled_once_per_process(kosit):
    assert KositConfiguration.load(KOSIT) is kosit
    assert KositConfiguration.load(str(KOSIT) + "/") is kosit


def test_a_zugferd_pdf_is_checked_by_its_embedded_xml(kosit, tmp_path):
    import facturx
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(tmp_path / "sichtbar.pdf"))
    page.drawString(72, 760, "Rechnung 123456XX")
    page.save()
    pdf = tmp_path / "rechnung.pdf"
    pdf.write_bytes(facturx.generate_from_binary(
        (tmp_path / "sichtbar.pdf").read_bytes(), (CORPUS / "01.01a-INVOICE_uncefact.xml").read_bytes(),
        flavor="factur-x", level="en16931",
    ))
    verdict = kosit.check_file(pdf)
    assert verdict.accepted and verdict.attachment == "factur-x.xml" and verdict.source == "rechnung.pdf"


def test_a_file_without_an_invoice_and_a_missing_configuration_are_clear_errors(kosit, tmp_path, monkeypatch):
    text = tmp_path / "brief.txt"
    text.write_text("Sehr geehrte Damen und Herren", encoding="utf-8")
    with pytest.raises(NotXmlError, match=r"'brief\.txt' ist weder XML noch PDF"):
        kosit.check_file(text)
    monkeypatch.delenv("RATHAUS_KOSIT_CONFIG", raising=False)
    with pytest.raises(KositConfigurationError, match="--kosit ORDNER oder der Umgebungsvariablen RATHAUS_KOSIT"):
        check_invoice_file(text)
    with pytest.raises(KositConfigurationError, match=r"enthält keine Datei scenarios\.xml"):
        check_invoice_file(text, tmp_path)
    broken = tmp_path / "kaputt"
    shutil.copytree(KOSIT, broken, ignore=shutil.ignore_patterns("XRechnung-CII-validation.xsl"))
    missing = re.escape("'resources/xrechnung/3.0.2/xsl/XRechnung-CII-validation.xsl'")
    with pytest.raises(KositConfigurationError, match=missing):
        check_invoice_file(text, broken)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    environment = {k: v for k, v in os.environ.items() if k != "RATHAUS_KOSIT_CONFIG"}
    environment["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in ("keywords", "sandbox", "processes"))
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "rathaus.cli", "invoice", "check", *args], capture_output=True,
                          text=True, env=environment, timeout=120, check=False)


def test_invoice_check_prints_the_verdict_as_json_and_exits_by_it(tmp_path):
    bad = tmp_path / "falsch.xml"
    bad.write_bytes(next(v for v in invalid() if v.name == "BR-CO-16_ubl").data)
    rejected = _cli(str(bad), "--kosit", "../shared/corpora/kosit-xrechnung-config", "--json")
    assert rejected.returncode == 1, rejected.stderr
    result = json.loads(rejected.stdout)
    assert result["accepted"] is False and result["scenario"] == "EN16931 XRechnung (UBL Invoice)"
    assert [e["rule"] for e in result["errors"]] == ["BR-CO-16"]
    assert result["errors"][0]["text"].startswith("Amount due for payment (BT-115)")
    good = _cli(str(CORPUS / "01.01a-INVOICE_uncefact.xml"), "--json", env={"RATHAUS_KOSIT_CONFIG": str(KOSIT)})
    assert good.returncode == 0 and json.loads(good.stdout)["accepted"] is True
    missing = _cli(str(bad))
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.count("\n") == 1 and "RATHAUS_KOSIT_CONFIG" in missing.stderr


def test_the_keyword_example_runs_in_english_and_german(tmp_path):
    from robot import run

    suite = tmp_path / "amtlich.robot"
    suite.write_text(
        "*** Settings ***\nLibrary    rathaus.EInvoice\nLibrary    rathaus.EInvoice    language=de    AS    DE\n\n"
        "*** Tasks ***\nEnglisch\n"
        "    ${verdict}=    Check Invoice With Official Rules    ${CORPUS}/01.01a-INVOICE_ubl.xml    ${KOSIT}\n"
        "    Should Be True    ${verdict.accepted}\n"
        "    Should Be Equal    ${verdict.scenario}    EN16931 XRechnung (UBL Invoice)\n"
        "    FOR    ${error}    IN    @{verdict.errors}\n        Log    ${error.rule}: ${error.text}\n    END\n"
        "Deutsch\n"
        "    ${urteil}=    DE.Rechnung Nach Amtlichen Regeln Prüfen    ${CORPUS}/01.01a-INVOICE_ubl.xml    ${KOSIT}\n"
        "    Should Be True    ${urteil.accepted}\n",
        encoding="utf-8",
    )
    assert run(str(suite), variable=[f"CORPUS:{CORPUS}", f"KOSIT:{KOSIT}"], output=None, log=None, report=None,
               console="none") == 0


def test_the_library_keyword_returns_the_verdict(kosit):
    verdict = EInvoice().check_invoice_with_official_rules(CORPUS / "02.01a-INVOICE_ubl.xml", KOSIT)
    assert verdict.accepted and verdict.as_dict()["errors"] == []
