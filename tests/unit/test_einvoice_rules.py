"""Business rules of rathaus.einvoice on corpus invoices changed in one place each, and the Leitweg-ID helper."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from rathaus.einvoice import (
    RULES,
    InvalidInvoiceError,
    InvalidLeitwegIdError,
    check_file,
    check_leitweg_id,
    invoice_findings,
    is_valid_leitweg_id,
    leitweg_check_digits,
    make_leitweg_id,
    read_invoice,
    validate_invoice,
)
from rathaus.einvoice.model import german_amount, round_amount
from rathaus.errors import BusinessError

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "xrechnung-testsuite"
SYNTAXES = ("ubl", "uncefact")

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
_TX = "rsm:SupplyChainTradeTransaction"
_SUMS = f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
_LINE_CII = f"{_TX}/ram:IncludedSupplyChainTradeLineItem"

#: A business term's element in each syntax (relative to the root).
TERMS = {
    "number": ("cbc:ID", "rsm:ExchangedDocument/ram:ID"),
    "issue_date": ("cbc:IssueDate", "rsm:ExchangedDocument/ram:IssueDateTime"),
    "type_code": ("cbc:InvoiceTypeCode", "rsm:ExchangedDocument/ram:TypeCode"),
    "currency": ("cbc:DocumentCurrencyCode", f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:InvoiceCurrencyCode"),
    "seller_name": (
        "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
        f"{_TX}/ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty/ram:Name",
    ),
    "buyer_name": (
        "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
        f"{_TX}/ram:ApplicableHeaderTradeAgreement/ram:BuyerTradeParty/ram:Name",
    ),
    "buyer_reference": ("cbc:BuyerReference", f"{_TX}/ram:ApplicableHeaderTradeAgreement/ram:BuyerReference"),
    "line_total": ("cac:LegalMonetaryTotal/cbc:LineExtensionAmount", f"{_SUMS}/ram:LineTotalAmount"),
    "net_total": ("cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount", f"{_SUMS}/ram:TaxBasisTotalAmount"),
    "tax_total": ("cac:TaxTotal/cbc:TaxAmount", f"{_SUMS}/ram:TaxTotalAmount"),
    "tax_currency": ("cbc:TaxCurrencyCode", f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:TaxCurrencyCode"),
    "tax_total_in_eur": (
        "cac:TaxTotal/cbc:TaxAmount[@currencyID = 'EUR']", f"{_SUMS}/ram:TaxTotalAmount[@currencyID = 'EUR']"
    ),
    "tax_total_in_gbp": (
        "cac:TaxTotal[cbc:TaxAmount/@currencyID = 'GBP']", f"{_SUMS}/ram:TaxTotalAmount[@currencyID = 'GBP']"
    ),
    "gross_total": ("cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", f"{_SUMS}/ram:GrandTotalAmount"),
    "payable_amount": ("cac:LegalMonetaryTotal/cbc:PayableAmount", f"{_SUMS}/ram:DuePayableAmount"),
    "category_tax": (
        "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount",
        f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CalculatedAmount",
    ),
    "first_line_amount": (
        "cac:InvoiceLine[1]/cbc:LineExtensionAmount",
        f"{_LINE_CII}[1]/ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation"
        "/ram:LineTotalAmount",
    ),
    "first_line_name": ("cac:InvoiceLine[1]/cac:Item/cbc:Name", f"{_LINE_CII}[1]/ram:SpecifiedTradeProduct/ram:Name"),
    "first_line_unit": (
        "cac:InvoiceLine[1]/cbc:InvoicedQuantity/@unitCode",
        f"{_LINE_CII}[1]/ram:SpecifiedLineTradeDelivery/ram:BilledQuantity/@unitCode",
    ),
    "lines": ("cac:InvoiceLine", _LINE_CII),
    "vat_breakdown": (
        "cac:TaxTotal/cac:TaxSubtotal", f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    ),
    "allowance_amount": (
        "cac:AllowanceCharge[cbc:ChargeIndicator = 'false']/cbc:Amount",
        f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge"
        "[ram:ChargeIndicator/udt:Indicator = 'false']/ram:ActualAmount",
    ),
    "charge_amount": (
        "cac:AllowanceCharge[cbc:ChargeIndicator = 'true']/cbc:Amount",
        f"{_TX}/ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge"
        "[ram:ChargeIndicator/udt:Indicator = 'true']/ram:ActualAmount",
    ),
}


def corpus_file(case: str, syntax: str) -> Path:
    return CORPUS / f"{case}-INVOICE_{syntax}.xml"


def changed(
    tmp_path: Path,
    case: str,
    syntax: str,
    *,
    add: dict[str, str] | None = None,
    remove: tuple[str, ...] = (),
    set_text: dict[str, str] | None = None,
    currency_ids: dict[str, str] | None = None,
) -> Path:
    """A copy of a corpus invoice with amounts raised, texts or currencyIDs replaced (first match) or elements
    removed (all)."""
    root = etree.fromstring(corpus_file(case, syntax).read_bytes())
    column = SYNTAXES.index(syntax)

    def first(term: str):
        found = root.xpath(TERMS[term][column], namespaces=NS)
        assert found, f"{term} not in {case} {syntax}"
        return found[0]

    for term, delta in (add or {}).items():
        node = first(term)
        node.text = str(Decimal(node.text) + Decimal(delta))
    for term, text in (set_text or {}).items():
        node = first(term)
        if isinstance(node, str):  # an attribute
            node.getparent().set(node.attrname, text)
        else:
            node.text = text
    for term, currency in (currency_ids or {}).items():
        first(term).set("currencyID", currency)
    for term in remove:
        for node in root.xpath(TERMS[term][column], namespaces=NS):
            if isinstance(node, str):
                del node.getparent().attrib[node.attrname]
            else:
                node.getparent().remove(node)
    target = tmp_path / f"{case}-{syntax}-changed.xml"
    target.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return target


def rules_of(path: Path) -> list[str]:
    return [finding.rule for finding in invoice_findings(read_invoice(path))]


# --------------------------------------------------------------------------- mandatory terms

@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize(
    ("term", "rule"),
    [
        ("number", "BR-02"),
        ("issue_date", "BR-03"),
        ("type_code", "BR-04"),
        ("seller_name", "BR-06"),
        ("buyer_name", "BR-07"),
        ("buyer_reference", "BR-DE-15"),
        ("payable_amount", "BR-15"),
        ("first_line_name", "BR-25"),
        ("first_line_unit", "BR-23"),
    ],
)
def test_a_missing_mandatory_term_gives_its_rule(tmp_path, syntax, term, rule):
    assert rules_of(changed(tmp_path, "01.01a", syntax, remove=(term,))) == [rule]


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_a_missing_currency_gives_br_05(tmp_path, syntax):
    # without BT-5 the tax total cannot be told apart by currency any more, but nothing else may fire
    assert rules_of(changed(tmp_path, "01.01a", syntax, remove=("currency",))) == ["BR-05"]


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_an_invoice_without_lines_gives_br_16(tmp_path, syntax):
    assert rules_of(changed(tmp_path, "01.01a", syntax, remove=("lines",))) == ["BR-16"]


@pytest.mark.parametrize(("syntax", "expected"), [("ubl", ["BR-CO-18"]), ("uncefact", ["BR-CO-18", "BR-CO-14"])])
def test_an_invoice_without_vat_breakdown_gives_br_co_18_and_in_cii_br_co_14(tmp_path, syntax, expected):
    # as the official Schematron: UBL checks BR-CO-14 on a TaxTotal with a breakdown, CII on BT-110 always
    assert rules_of(changed(tmp_path, "01.01a", syntax, remove=("vat_breakdown",))) == expected


def test_a_missing_number_is_reported_in_german_naming_the_file(tmp_path):
    path = changed(tmp_path, "01.01a", "ubl", remove=("number",))
    with pytest.raises(InvalidInvoiceError) as caught:
        validate_invoice(read_invoice(path))
    error = caught.value
    assert isinstance(error, BusinessError)
    assert error.code == "EINVOICE_INVALID"
    assert error.rules == ["BR-02"]
    assert str(error) == (
        f"{path.name}: Rechnung ungültig – [BR-02] Rechnungsnummer (BT-1) fehlt. "
        "Bitte weisen Sie die Rechnung mit diesen Gründen an den Rechnungssteller zurück."
    )
    assert error.findings[0].message == f"Rechnung ohne Nummer ({path.name}): Rechnungsnummer (BT-1) fehlt."


def test_a_missing_leitweg_id_names_the_invoice(tmp_path):
    path = changed(tmp_path, "01.01a", "uncefact", remove=("buyer_reference",))
    (finding,) = invoice_findings(read_invoice(path))
    assert finding.rule == "BR-DE-15"
    assert finding.message == f"Rechnung 123456XX ({path.name}): Käuferreferenz / Leitweg-ID (BT-10) fehlt."
    assert str(finding) == f"[BR-DE-15] {finding.message}"
    assert finding.as_dict() == {"rule": "BR-DE-15", "message": finding.message, "text": finding.text}


def test_check_file_returns_the_invoice_with_its_findings(tmp_path):
    invoice, findings = check_file(corpus_file("01.03a", "uncefact"))
    assert (invoice.number, findings) == ("RR123456", [])
    invoice, findings = check_file(changed(tmp_path, "01.03a", "ubl", remove=("buyer_reference",)))
    assert invoice is not None
    assert [finding.rule for finding in findings] == ["BR-DE-15"]


# --------------------------------------------------------------------------- arithmetic

@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize(
    ("case", "add", "rule"),
    [
        # one line amount off: the lines no longer sum to BT-106
        ("01.01a", {"first_line_amount": "1"}, "BR-CO-10"),
        # a document level allowance / charge off: BT-107 / BT-108 no longer match
        ("02.01a", {"allowance_amount": "5"}, "BR-CO-11"),
        ("02.01a", {"charge_amount": "5"}, "BR-CO-12"),
        # BT-109 off, everything that depends on it moved along
        ("01.01a", {"net_total": "1", "gross_total": "1", "payable_amount": "1"}, "BR-CO-13"),
        # one VAT category's tax amount off
        ("01.01a", {"category_tax": "0.01"}, "BR-CO-14"),
        # BT-112 off, the amount due moved along
        ("01.01a", {"gross_total": "10", "payable_amount": "10"}, "BR-CO-15"),
        # only the amount due off
        ("01.01a", {"payable_amount": "-0.01"}, "BR-CO-16"),
        # the same with a rounding amount (BT-114) in play
        ("01.17a", {"payable_amount": "0.01"}, "BR-CO-16"),
    ],
)
def test_each_arithmetic_rule_fires_alone(tmp_path, syntax, case, add, rule):
    assert rules_of(changed(tmp_path, case, syntax, add=add)) == [rule]


def test_the_br_co_15_message_shows_german_amounts(tmp_path):
    path = changed(tmp_path, "01.01a", "ubl", add={"gross_total": "1000", "payable_amount": "1000"})
    invoice = read_invoice(path)
    (finding,) = invoice_findings(invoice)
    assert finding.text == (
        f"Gesamtbetrag mit Steuer {german_amount(invoice.gross_total)} ≠ Nettobetrag "
        f"{german_amount(invoice.net_total)} + Steuer {german_amount(invoice.tax_total)}."
    )
    assert "1.336,90" in finding.text
    with pytest.raises(InvalidInvoiceError, match=r"^.*: Rechnung 123456XX ungültig – \[BR-CO-15\] Gesamtbetrag"):
        validate_invoice(invoice)


def test_several_findings_are_listed_in_one_error(tmp_path):
    path = changed(tmp_path, "01.01a", "uncefact", remove=("buyer_reference",), add={"payable_amount": "1"})
    with pytest.raises(InvalidInvoiceError) as caught:
        validate_invoice(read_invoice(path))
    assert caught.value.rules == ["BR-DE-15", "BR-CO-16"]
    assert "[BR-DE-15] Käuferreferenz / Leitweg-ID (BT-10) fehlt. [BR-CO-16] Zahlbetrag" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_more_than_two_decimals_break_the_decimal_rules(tmp_path, syntax):
    # the same value, stated with three decimals: only the decimal rule fires, the sums still hold
    invoice = read_invoice(corpus_file("01.01a", syntax))
    path = changed(
        tmp_path, "01.01a", syntax, set_text={"payable_amount": f"{invoice.payable_amount.quantize(Decimal('0.001'))}"}
    )
    assert rules_of(path) == ["BR-DEC-18"]


def test_sums_are_compared_after_the_standards_rounding(tmp_path):
    # lines of 10.005 + 0.000 sum to 10.005, which rounds to 10.01 (half up): BT-106 10.01 holds
    path = changed(tmp_path, "01.01a", "ubl", set_text={"first_line_amount": "10.005"})
    invoice = read_invoice(path)
    others = sum(line.net_amount for line in invoice.lines[1:])
    assert round_amount(Decimal("10.005") + others) != invoice.line_total
    findings = [finding.rule for finding in invoice_findings(invoice)]
    assert findings == ["BR-DEC-23", "BR-CO-10"]


def test_xpath_rounding_goes_half_towards_positive_infinity():
    assert round_amount(Decimal("2.345")) == Decimal("2.35")
    assert round_amount(Decimal("-2.345")) == Decimal("-2.34")
    assert round_amount(Decimal("-2.346")) == Decimal("-2.35")
    assert round_amount(Decimal("7")) == Decimal("7.00")


def test_german_amounts_group_thousands():
    assert german_amount(Decimal("1234567.5")) == "1.234.567,50"
    assert german_amount(Decimal("-1190")) == "-1.190,00"
    assert german_amount(Decimal("0.125")) == "0,125"
    assert german_amount(None) == "–"


def test_every_reported_rule_is_documented():
    assert {"BR-02", "BR-DE-15", "BR-CO-10", "BR-CO-13", "BR-CO-14", "BR-CO-15", "BR-CO-16"} <= set(RULES)
    # EN 16931 / XRechnung ids, and ours where no published rule exists
    assert all(rule.startswith(("BR-", "RATHAUS-")) for rule in RULES)
    assert {"BR-CL-04", "BR-CL-05", "BR-53", "RATHAUS-CURRENCY"} <= set(RULES)


# --------------------------------------------------------------------------- currencies


def in_currency(tmp_path: Path, case: str, syntax: str, old: str, new: str) -> Path:
    """A copy of a corpus invoice whose currency ``old`` is ``new`` throughout (codes and every currencyID)."""
    data = corpus_file(case, syntax).read_text(encoding="utf-8")
    assert f">{old}<" in data
    data = data.replace(f">{old}<", f">{new}<").replace(f'currencyID="{old}"', f'currencyID="{new}"')
    target = tmp_path / f"{case}-{syntax}-{new}.xml"
    target.write_text(data, encoding="utf-8")
    return target


def test_iso_4217_codes_come_from_the_installed_code_list():
    from rathaus.einvoice.codelists import _iso4217_codes, is_iso4217_currency

    assert {"EUR", "CHF", "GBP", "USD", "PLN", "JPY"} <= _iso4217_codes()
    assert len(_iso4217_codes()) > 150
    assert not {"XYZ", "DEM", "eur", "", "EURO"} & _iso4217_codes()
    assert is_iso4217_currency("EUR")
    assert not is_iso4217_currency("eur")


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_an_invoice_in_a_currency_that_is_no_iso_4217_code_gives_br_cl_04(tmp_path, syntax):
    path = in_currency(tmp_path, "01.01a", syntax, "EUR", "XYZ")
    (finding,) = invoice_findings(read_invoice(path))
    assert finding.rule == "BR-CL-04"
    assert finding.text == "Währung (BT-5) 'XYZ' ist kein Währungscode nach ISO 4217 (z. B. EUR)."


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_another_valid_currency_throughout_is_fine(tmp_path, syntax):
    assert rules_of(in_currency(tmp_path, "01.01a", syntax, "EUR", "CHF")) == []


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_only_the_document_currency_changed_to_xyz_is_rejected_for_code_and_amounts(tmp_path, syntax):
    # the review's case: BT-5 "XYZ", the amounts still in EUR
    path = changed(tmp_path, "01.01a", syntax, set_text={"currency": "XYZ"})
    expected = ["BR-CL-04", "BR-CO-15"] + (["RATHAUS-CURRENCY"] if syntax == "ubl" else [])
    assert rules_of(path) == expected  # CII states currencyID on the VAT total only


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_a_vat_currency_that_is_no_iso_4217_code_gives_br_cl_05(tmp_path, syntax):
    path = in_currency(tmp_path, "02.01a", syntax, "GBP", "ABC")
    (finding,) = invoice_findings(read_invoice(path))
    assert finding.rule == "BR-CL-05"
    assert finding.text == "Steuerwährung (BT-6) 'ABC' ist kein Währungscode nach ISO 4217 (z. B. EUR)."


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_a_vat_currency_without_vat_total_in_it_gives_br_53(tmp_path, syntax):
    path = changed(tmp_path, "02.01a", syntax, remove=("tax_total_in_gbp",))
    (finding,) = invoice_findings(read_invoice(path))
    assert finding.rule == "BR-53"
    assert finding.text == "Umsatzsteuer in der Steuerwährung GBP (BT-111) fehlt, obwohl BT-6 angegeben ist."


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_a_vat_total_in_another_currency_than_the_invoice_gives_br_co_15(tmp_path, syntax):
    # the review's second case: the sums hold, but BT-110 is stated in USD on a EUR invoice
    path = changed(tmp_path, "01.01a", syntax, currency_ids={"tax_total": "USD"})
    invoice = read_invoice(path)
    assert invoice.tax_total == read_invoice(corpus_file("01.01a", syntax)).tax_total
    (finding,) = invoice_findings(invoice)
    assert finding.rule == "BR-CO-15"
    assert finding.text == "Umsatzsteuer (BT-110) ist nicht in der Rechnungswährung EUR angegeben, nur in USD."
    with pytest.raises(InvalidInvoiceError, match=r"\[BR-CO-15\] Umsatzsteuer \(BT-110\) ist nicht in der"):
        validate_invoice(invoice)


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_the_vat_total_only_in_the_vat_currency_gives_br_co_15(tmp_path, syntax):
    # BT-111 in GBP is there, BT-110 in EUR is not
    path = changed(tmp_path, "02.01a", syntax, remove=("tax_total_in_eur",))
    invoice = read_invoice(path)
    assert invoice.tax_total is None  # BT-111 is never taken for BT-110
    findings = invoice_findings(invoice)
    assert [finding.rule for finding in findings] == ["BR-CO-15"]  # BR-CO-14 needs a BT-110 to check
    assert findings[0].text == "Umsatzsteuer (BT-110) ist nicht in der Rechnungswährung EUR angegeben, nur in GBP."


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_an_amount_in_another_currency_gives_rathaus_currency(tmp_path, syntax):
    path = changed(tmp_path, "01.01a", syntax, currency_ids={"first_line_amount": "USD"})
    (finding,) = invoice_findings(read_invoice(path))
    assert finding.rule == "RATHAUS-CURRENCY"
    element = "LineExtensionAmount" if syntax == "ubl" else "LineTotalAmount"
    assert finding.text == f"Beträge in USD statt in der Rechnungswährung EUR (BT-5): {element}."


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_a_second_vat_total_in_a_currency_that_is_not_the_vat_currency_gives_rathaus_currency(tmp_path, syntax):
    # without BT-6 the GBP total is neither BT-110 nor BT-111
    path = changed(tmp_path, "02.01a", syntax, remove=("tax_currency",))
    (finding,) = invoice_findings(read_invoice(path))
    assert finding.rule == "RATHAUS-CURRENCY"
    assert finding.text == (
        "Ein Steuergesamtbetrag ist in GBP angegeben, weder in der Rechnungswährung EUR (BT-5) noch in einer "
        "Steuerwährung (BT-6)."
    )


def test_the_reader_keeps_the_stated_currencies(tmp_path):
    ubl, cii = (read_invoice(corpus_file("02.01a", syntax)) for syntax in SYNTAXES)
    assert ubl.tax_total_currencies == cii.tax_total_currencies == ("EUR", "GBP")
    assert {currency for _, currency in ubl.amount_currencies} == {"EUR"}
    assert ("PayableAmount", "EUR") in ubl.amount_currencies
    assert len(ubl.amount_currencies) == len(set(ubl.amount_currencies))


# --------------------------------------------------------------------------- Leitweg-ID

#: Leitweg-IDs of the KoSIT test suite whose check digits are right, and ones built here.
VALID_IDS = [
    "04011000-12345-03",
    "04011000-12346-97",
    "11002002-98765-14",
    "1234567890-54321-40",
    "90000000-03083-72",
    "99000000-18188-18",
    "991-33333TEST-33",
    "04011000-1234512345-06",
]


@pytest.mark.parametrize("leitweg_id", VALID_IDS)
def test_valid_leitweg_ids_pass(leitweg_id):
    assert check_leitweg_id(leitweg_id) == leitweg_id
    assert is_valid_leitweg_id(leitweg_id)


def test_check_digits_are_iso_7064_mod_97_10():
    assert leitweg_check_digits("04011000", "1234512345") == "06"
    assert leitweg_check_digits("991", "33333TEST") == "33"
    assert make_leitweg_id("04011000", "1234512345") == "04011000-1234512345-06"
    # the check digits make the whole number (letters as 10..35) leave remainder 1 modulo 97
    for coarse, fine in [("06", ""), ("066310009009", ""), ("06631009", "KAEMMEREI"), ("065310011011", "A" * 30)]:
        made = make_leitweg_id(coarse, fine)
        assert check_leitweg_id(made) == made
        digits = "".join(str(int(ch, 36)) for ch in made.replace("-", ""))
        assert int(digits) % 97 == 1


def test_leitweg_ids_are_normalised():
    assert check_leitweg_id("  991-33333test-33 ") == "991-33333TEST-33"
    assert make_leitweg_id("991", "33333test") == "991-33333TEST-33"
    assert make_leitweg_id("04011000") == f"04011000-{leitweg_check_digits('04011000')}"


@pytest.mark.parametrize(
    ("leitweg_id", "reason"),
    [
        ("04011000-1234512345-07", "die Prüfziffer '07' passt nicht (erwartet '06')"),
        ("04011000-1234512354-06", "die Prüfziffer '06' passt nicht"),  # two digits swapped
        ("99000000-01944-98", "die Prüfziffer '98' passt nicht (erwartet '56')"),  # a test value of the corpus
        ("1-12345-03", "die Grobadressierung '1' muss aus 2 bis 12 Ziffern bestehen"),
        ("1234567890123-03", "die Grobadressierung '1234567890123' muss aus 2 bis 12 Ziffern bestehen"),
        ("04011000-12_45-03", "die Feinadressierung '12_45' darf nur"),
        (f"04011000-{'A' * 31}-03", "darf nur 1 bis 30 Buchstaben oder Ziffern enthalten"),
        ("04011000-12345-3", "die Prüfziffer '3' muss aus genau 2 Ziffern bestehen"),
        ("04011000-123-45-03", "zwei oder drei durch '-' getrennten Teilen"),
        ("04011000", "zwei oder drei durch '-' getrennten Teilen"),
        ("", "sie ist leer"),
    ],
)
def test_invalid_leitweg_ids_fail_with_a_german_reason(leitweg_id, reason):
    with pytest.raises(InvalidLeitwegIdError) as caught:
        check_leitweg_id(leitweg_id)
    assert reason in str(caught.value)
    assert caught.value.code == "LEITWEG_ID_INVALID"
    assert isinstance(caught.value, BusinessError)
    assert not is_valid_leitweg_id(leitweg_id)


def test_make_leitweg_id_refuses_malformed_parts():
    with pytest.raises(InvalidLeitwegIdError, match="Grobadressierung 'A1'"):
        make_leitweg_id("A1")
    with pytest.raises(InvalidLeitwegIdError, match="Feinadressierung 'Amt 3'"):
        make_leitweg_id("06631009", "Amt 3")


def test_the_leitweg_check_is_not_a_validation_rule():
    # the corpus invoice carries a test Leitweg-ID with wrong check digits and is still valid XRechnung
    invoice = read_invoice(corpus_file("01.06a", "ubl"))
    assert not is_valid_leitweg_id(invoice.buyer_reference)
    assert invoice_findings(invoice) == []
