"""Generate realistic sample mails of a city's general mailbox for the process 'posteingang'.

Writes one ``.eml`` per mail into ``--out`` and, with ``--maildir``, delivers them into that Maildir's
inbox; ``--devdata`` writes Robocorp-style ``devdata/`` (``env.json``, ``work-items-in/<case>/``). The set
is deterministic for a seed and covers what a mail room gets: a noise complaint, two applications, an
XRechnung invoice, a letter from the tax office, a scanned paper letter whose subject says nothing (only
OCR can route it), an unreadable scan, an ambiguous mail and one no rule knows.

    python processes/posteingang/samples/generate.py --city limburg --out var/samples \\
        --maildir var/limburg/poststelle

The checked-in ``processes/posteingang/devdata/`` comes from ``--city limburg --devdata
processes/posteingang/devdata``. A devdata run of the task "Post zuordnen" (``env.json``: file adapter, one
case) moves the case's mail in the Maildir under ``RATHAUS_HOME``, so deliver the samples there first with
``--maildir``; like rpaframework's file adapter it writes the results back into ``work-items.json``, so run
the generator again afterwards.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from io import BytesIO
from pathlib import Path
from typing import Any

import yaml
from rathaus.einvoice.leitweg import make_leitweg_id
from rathaus_sandbox.samples import deliver, write_env, write_work_items

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
CITIES = ROOT / "resources" / "cities"
#: Fixed receipt time of the first sample (Monday morning, CET); the others follow minutes apart.
START = datetime(2026, 11, 2, 7, 45, tzinfo=timezone(timedelta(hours=1)))
#: The scan resolution: what an office scanner sends by default.
SCAN_DPI = 200


@dataclass
class Sample:
    """One sample mail and where the city's rules must put it."""

    key: str
    description: str
    #: department key in posteingang.yaml, or ``None`` for the review folder
    expected: str | None
    sender: tuple[str, str]
    subject: str
    body: str
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    #: business error code for items that go to review
    code: str = ""
    #: the text printed on a scanned paper letter (what OCR should find), for tests
    scan_text: str = ""


# ----------------------------------------------------------------------------- city data


def city_data(city: str) -> dict[str, Any]:
    """The city's master data (stadt.yaml) with its routing rules under ``posteingang``."""
    folder = CITIES / city
    if not (folder / "stadt.yaml").is_file():
        known = ", ".join(sorted(p.name for p in CITIES.iterdir() if (p / "stadt.yaml").is_file()))
        raise SystemExit(f"Stadt '{city}' unbekannt; vorhanden: {known}")
    data = yaml.safe_load((folder / "stadt.yaml").read_text(encoding="utf-8"))
    data["posteingang"] = yaml.safe_load((folder / "posteingang.yaml").read_text(encoding="utf-8"))
    return data


def city_domain(data: dict[str, Any]) -> str:
    return str(data.get("email", "stadt@example.org")).rpartition("@")[2]


# ----------------------------------------------------------------------------- documents


def _font_file(name: str) -> str | None:
    """A TrueType font: matplotlib's bundled DejaVu (always installed with rathaus), else Debian's."""
    spec = importlib.util.find_spec("matplotlib")
    candidates = []
    if spec and spec.submodule_search_locations:
        candidates.append(Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf" / name)
    candidates.append(Path("/usr/share/fonts/truetype/dejavu") / name)
    return next((str(path) for path in candidates if path.is_file()), None)


def _font(size: int) -> Any:
    from PIL import ImageFont

    path = _font_file("DejaVuSerif.ttf") or _font_file("DejaVuSans.ttf")
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def _image_pdf(image: Any) -> bytes:
    """An image-only PDF (no text layer), as a scanner without OCR makes it; fixed dates keep it deterministic."""
    buffer = BytesIO()
    fixed = time.gmtime(START.timestamp())
    image.save(buffer, "PDF", resolution=SCAN_DPI, creationDate=fixed, modDate=fixed,
               producer="Scan2PDF", title="Scan")
    return buffer.getvalue()


def scanned_letter(lines: list[str], rng: random.Random) -> bytes:
    """A paper letter as an office scanner delivers it: 200 dpi grey, slightly skewed, with dust and blur."""
    from PIL import Image, ImageDraw, ImageFilter

    width, height = int(8.27 * SCAN_DPI), int(11.69 * SCAN_DPI)
    page = Image.new("L", (width, height), 252)
    draw = ImageDraw.Draw(page)
    font = _font(34)
    y = 190
    for line in lines:
        if line:
            draw.text((170, y), line, fill=25, font=font)
        y += 50
    page = page.rotate(rng.uniform(-1.0, 1.0), resample=Image.Resampling.BICUBIC, fillcolor=252)
    pixels = page.load()
    for _ in range(5000):
        pixels[rng.randrange(width), rng.randrange(height)] = rng.randrange(40, 170)
    return _image_pdf(page.filter(ImageFilter.GaussianBlur(0.6)))


def unreadable_scan(lines: list[str], rng: random.Random) -> bytes:
    """A scan nobody can read: a faint, badly out-of-focus copy of a short letter."""
    from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

    width, height = int(8.27 * SCAN_DPI), int(11.69 * SCAN_DPI)
    page = Image.new("L", (width, height), 250)
    draw = ImageDraw.Draw(page)
    font = _font(30)
    for number, line in enumerate(lines):
        draw.text((170, 260 + 50 * number), line, fill=40, font=font)
    page = page.rotate(rng.uniform(2.0, 4.0), resample=Image.Resampling.BICUBIC, fillcolor=250)
    page = ImageEnhance.Contrast(page.filter(ImageFilter.GaussianBlur(5))).enhance(0.35)
    return _image_pdf(page)


def text_pdf(title: str, lines: list[str]) -> bytes:
    """A PDF with a text layer, as an online form or word processor makes it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    canvas.setTitle(title)
    canvas.setFont("Helvetica-Bold", 15)
    canvas.drawString(72, 770, title)
    canvas.setFont("Helvetica", 11)
    y = 735
    for line in lines:
        canvas.drawString(72, y, line)
        y -= 17
    canvas.save()
    return buffer.getvalue()


def xrechnung(number: str, issued: datetime, buyer: dict[str, Any], leitweg: str) -> bytes:
    """A small XRechnung 3.0 invoice in UBL syntax: electrical work on a school building, 19 % VAT."""
    lines = [("Wartung Brandmeldeanlage Grundschule", 1, 640.00), ("Austausch Rauchmelder (Stück)", 12, 38.50)]
    net = round(sum(quantity * price for _, quantity, price in lines), 2)
    tax = round(net * 0.19, 2)
    address = buyer.get("anschrift", {})
    invoice_lines = "".join(
        f"""
  <cac:InvoiceLine>
    <cbc:ID>{index}</cbc:ID>
    <cbc:InvoicedQuantity unitCode="{'C62' if quantity > 1 else 'LS'}">{quantity}</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">{quantity * price:.2f}</cbc:LineExtensionAmount>
    <cac:Item>
      <cbc:Name>{name}</cbc:Name>
      <cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">{price:.2f}</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>"""
        for index, (name, quantity, price) in enumerate(lines, start=1)
    )
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<ubl:Invoice xmlns:ubl="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{issued:%Y-%m-%d}</cbc:IssueDate>
  <cbc:DueDate>{issued + timedelta(days=30):%Y-%m-%d}</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>{leitweg}</cbc:BuyerReference>
  <cac:AccountingSupplierParty><cac:Party>
    <cbc:EndpointID schemeID="EM">rechnung@elektro-hahn.example</cbc:EndpointID>
    <cac:PostalAddress><cbc:StreetName>Industriestraße 14</cbc:StreetName><cbc:CityName>Hadamar</cbc:CityName>
      <cbc:PostalZone>65589</cbc:PostalZone><cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode>
      </cac:Country></cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>DE811234567</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID>
      </cac:TaxScheme></cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>Elektro Hahn GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
    <cac:Contact><cbc:Name>Buchhaltung</cbc:Name><cbc:Telephone>06433 9120-0</cbc:Telephone>
      <cbc:ElectronicMail>rechnung@elektro-hahn.example</cbc:ElectronicMail></cac:Contact>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cbc:EndpointID schemeID="0204">{leitweg}</cbc:EndpointID>
    <cac:PostalAddress><cbc:StreetName>{address.get('strasse', '')}</cbc:StreetName>
      <cbc:CityName>{address.get('ort', '')}</cbc:CityName><cbc:PostalZone>{address.get('plz', '')}</cbc:PostalZone>
      <cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyLegalEntity><cbc:RegistrationName>{buyer.get('name', '')}</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>
    <cac:PayeeFinancialAccount><cbc:ID>DE02500105170137075030</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>
  <cac:PaymentTerms><cbc:Note>Zahlbar innerhalb von 30 Tagen ohne Abzug.</cbc:Note></cac:PaymentTerms>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">{tax:.2f}</cbc:TaxAmount>
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">{net:.2f}</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="EUR">{tax:.2f}</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">{net:.2f}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">{net:.2f}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">{net + tax:.2f}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">{net + tax:.2f}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>{invoice_lines}
</ubl:Invoice>
"""
    return xml.encode("utf-8")


# ----------------------------------------------------------------------------- the sample set

#: Citizens writing in (fictional), with the umlauts and accents a mail room sees.
PEOPLE = [
    ("Jürgen Weiß", "j.weiss@example.org"),
    ("Ayşe Öztürk", "ayse.oeztuerk@example.net"),
    ("Bärbel Schäfer", "baerbel.schaefer@example.com"),
    ("Małgorzata Kowalczyk", "m.kowalczyk@example.org"),
    ("Sören Großmann", "soeren.grossmann@example.net"),
    ("Thị Mai Nguyễn", "mai.nguyen@example.com"),
    ("Hans-Peter Krämer", "hp.kraemer@example.org"),
]
STREETS = ["Bahnhofstraße", "Grabenstraße", "Schiede", "Frankfurter Straße", "Am Fischmarkt", "Holzheimer Straße"]


def samples(city: str, seed: int = 2026) -> list[Sample]:
    """The deterministic sample set for ``city``."""
    return list(_samples(city, seed))


@functools.lru_cache(maxsize=8)
def _samples(city: str, seed: int) -> tuple[Sample, ...]:
    rng = random.Random(f"{seed}-{city}")
    data = city_data(city)
    town = data.get("anschrift", {}).get("ort", data.get("kurzname", city))
    people = PEOPLE[:]
    rng.shuffle(people)

    def street() -> str:
        return f"{rng.choice(STREETS)} {rng.randint(1, 80)}"

    result = [
        Sample(
            "laermbeschwerde", "Lärmbeschwerde über eine Gaststätte", "ordnungsamt", people[0],
            f"Lärmbeschwerde – Gaststätte in der {street()}",
            "Sehr geehrte Damen und Herren,\n\nseit Wochen ist es an jedem Wochenende bis weit nach Mitternacht "
            "laut. Die Gäste der Gaststätte stehen vor der Tür, die Musik läuft bei offenem Fenster. An Schlaf "
            "ist nicht zu denken; die Nachtruhe wird regelmäßig nicht eingehalten.\n\nIch bitte Sie, gegen den "
            "Lärm einzuschreiten.\n\nMit freundlichen Grüßen\n" + people[0][0],
        ),
        Sample(
            "bauvoranfrage", "Bauvoranfrage mit PDF-Formular (Textschicht)", "bauamt", people[1],
            f"Bauvoranfrage für das Flurstück {rng.randint(100, 999)}/{rng.randint(1, 30)}",
            "Sehr geehrte Damen und Herren,\n\nanbei übersende ich meine Bauvoranfrage für den Anbau eines "
            "Carports mit Abstellraum. Ich bitte um Prüfung.\n\nMit freundlichen Grüßen\n" + people[1][0],
            [("Bauvoranfrage.pdf", text_pdf("Bauvoranfrage nach § 66 HBO", [
                f"Bauherr/in: {people[1][0]}",
                f"Baugrundstück: {street()}, {town}",
                f"Gemarkung {data.get('kurzname', town)}, Flur {rng.randint(1, 40)}, Flurstück {rng.randint(10, 999)}",
                "Vorhaben: Carport mit Abstellraum, 6,00 m x 3,50 m, Flachdach",
                "Fragestellung: Ist das Vorhaben nach dem Bebauungsplan zulässig?",
                "Anlagen: Lageplan, Ansichten",
            ]), "application/pdf")],
        ),
        Sample(
            "geburtsurkunde", "Antrag auf eine Geburtsurkunde", "standesamt", people[2],
            "Anforderung einer Geburtsurkunde",
            "Sehr geehrte Damen und Herren,\n\nich bitte um Ausstellung von zwei Geburtsurkunden für meine "
            "Tochter, geboren im März 2019 in Ihrer Stadt. Die Gebühr überweise ich nach Erhalt Ihrer "
            "Rechnung. Eine Ausweiskopie liegt meiner Post bei.\n\nMit freundlichen Grüßen\n" + people[2][0],
        ),
    ]
    invoice_number = f"RE-2026-{rng.randint(10000, 99999)}"
    leitweg = make_leitweg_id(f"06{rng.randint(100000, 999999)}", "POSTST")
    result.append(Sample(
        "e-rechnung", "XRechnung (UBL) als XML-Anhang", "kaemmerei",
        ("Elektro Hahn GmbH – Buchhaltung", "rechnung@elektro-hahn.example"),
        f"Rechnung {invoice_number}",
        f"Sehr geehrte Damen und Herren,\n\nanbei erhalten Sie unsere Rechnung {invoice_number} als XRechnung. "
        f"Bitte geben Sie bei Zahlung die Rechnungsnummer an.\n\nMit freundlichen Grüßen\nElektro Hahn GmbH",
        [(f"{invoice_number}.xml", xrechnung(invoice_number, START - timedelta(days=3), data, leitweg),
          "application/xml")],
    ))
    result.append(Sample(
        "finanzamt", "Mitteilung des Finanzamts (bekannte Absender-Domain)", "kaemmerei",
        (f"Finanzamt {data.get('kurzname', town)}", f"poststelle@{city}.finanzamt.hessen.de"),
        f"Ihre Nachricht vom 14.10.2026 – Az. 0{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        "Sehr geehrte Damen und Herren,\n\nin der Anlage zu unserem Schreiben erhalten Sie die Mitteilung "
        "über den Steuermessbetrag für Zwecke der Gewerbesteuer. Die Unterlagen gehen Ihnen zusätzlich auf "
        "dem Postweg zu.\n\nMit freundlichen Grüßen\nIhr Finanzamt",
    ))
    address = data.get("anschrift", {})
    letter = [
        people[3][0], street(), f"{address.get('plz', '')} {town}", "",
        data.get("name", town), address.get("strasse", ""), f"{address.get('plz', '')} {town}", "",
        f"{town}, 28. Oktober 2026", "",
        "Betreuungsplatz für meinen Sohn", "",
        "Sehr geehrte Damen und Herren,", "",
        "hiermit bitte ich um einen Betreuungsplatz in einer Kindertagesstätte",
        "für meinen Sohn ab dem 1. Februar 2027. Ich arbeite ab diesem",
        "Zeitpunkt wieder in Vollzeit. Bitte teilen Sie mir mit, ob ein",
        "Kita-Platz in unserer Nähe frei ist und welche Unterlagen ich",
        "einreichen muss.", "",
        "Mit freundlichen Grüßen", "", people[3][0],
    ]
    result.append(Sample(
        "scan-brief", "Gescannter Brief ohne Textschicht, Betreff sagt nichts: nur OCR entscheidet", "jugendamt",
        people[3], "Scan", "Gesendet mit meinem Smartphone",
        [(f"Scan_20261102_{rng.randint(80000, 95959):06d}.pdf", scanned_letter(letter, rng), "application/pdf")],
        scan_text="\n".join(letter),
    ))
    blurred = letter[10:20]
    result.append(Sample(
        "scan-unlesbar", "Unlesbarer Scan (verwackelt, blass)", None, people[4], "Scan",
        "",
        [(f"Scan_20261102_{rng.randint(80000, 95959):06d}.pdf", unreadable_scan(blurred, rng), "application/pdf")],
        code="SCAN_UNLESBAR",
        scan_text="\n".join(blurred),
    ))
    result.append(Sample(
        "mehrdeutig", "Baustelle und Lärm: zwei Fachbereiche gleich stark", None, people[5],
        "Baustelle und Lärm vor unserem Haus",
        "Guten Tag,\n\nseit drei Wochen steht vor unserem Haus eine Baustelle. Der Lärm beginnt jeden Morgen "
        "um sechs Uhr. Dürfen die das?\n\nViele Grüße\n" + people[5][0],
        code="GLEICHSTAND",
    ))
    result.append(Sample(
        "ohne-treffer", "Allgemeine Frage, die keine Regel kennt", None, people[6],
        "Frage",
        "Hallo,\n\nwann ist das Rathaus zwischen den Jahren geöffnet? Ich möchte gern persönlich vorbeikommen.\n\n"
        "Danke und Gruß\n" + people[6][0],
        code="KEIN_TREFFER",
    ))
    return tuple(result)


def message_id(sample: Sample, city: str, seed: int) -> str:
    return f"<{sample.key}.{seed}.{city}@beispiel.rathaus.test>"


def build_mail(sample: Sample, city: str, index: int, seed: int = 2026) -> EmailMessage:
    """The mail as it arrives in poststelle@<city>."""
    data = city_data(city)
    msg = EmailMessage()
    msg["From"] = formataddr(sample.sender)
    msg["To"] = formataddr((f"Poststelle {data.get('name', city)}", f"poststelle@{city_domain(data)}"))
    msg["Subject"] = sample.subject
    msg["Date"] = format_datetime(START + timedelta(minutes=7 * index))
    msg["Message-ID"] = message_id(sample, city, seed)
    msg.set_content(sample.body or "\n")
    for name, content, content_type in sample.attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    if msg.is_multipart():
        msg.set_boundary(f"=_rathaus-{sample.key}-{seed}")
    return msg


def generate(out: Path, city: str = "limburg", seed: int = 2026) -> list[Path]:
    """Write the sample mails as ``NN-<key>.eml`` into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, sample in enumerate(samples(city, seed)):
        path = out / f"{index + 1:02d}-{sample.key}.eml"
        path.write_bytes(build_mail(sample, city, index, seed).as_bytes())
        paths.append(path)
    return paths


def expected_routing(city: str, seed: int = 2026) -> dict[str, dict[str, Any]]:
    """Per sample key: its Message-ID, the expected department key (``None``: review) and folder path."""
    rules = city_data(city)["posteingang"]["fachbereiche"]
    return {
        sample.key: {
            "message_id": message_id(sample, city, seed),
            "fachbereich": sample.expected,
            "ordner": rules[sample.expected]["ordner"] if sample.expected else None,
            "code": sample.code or None,
        }
        for sample in samples(city, seed)
    }


#: Cases written to devdata/: one per kind of path through the robot.
DEVDATA_CASES = ("laermbeschwerde", "e-rechnung", "scan-brief", "scan-unlesbar", "mehrdeutig")


def write_devdata(folder: Path, paths: list[Path], city: str, seed: int = 2026) -> None:
    """Robocorp-style devdata: ``env.json`` and ``work-items-in/<case>/work-items.json`` with the mail."""
    expected = expected_routing(city, seed)
    inputs = folder / "work-items-in"
    shutil.rmtree(inputs, ignore_errors=True)
    for path in paths:
        key = path.stem.split("-", 1)[1]
        if key not in DEVDATA_CASES:
            continue
        case = inputs / key
        case.mkdir(parents=True)
        shutil.copyfile(path, case / "nachricht.eml")
        received = (START + timedelta(minutes=7 * (int(path.stem[:2]) - 1))).isoformat()
        item = {"payload": {"message_id": expected[key]["message_id"], "eingang": received},
                "files": {"nachricht.eml": "nachricht.eml"}}
        write_work_items(case, [item], indent=4)
    env = {
        "RPA_WORKITEMS_ADAPTER": "FileAdapter",
        "RPA_INPUT_WORKITEM_PATH": "processes/posteingang/devdata/work-items-in/scan-brief/work-items.json",
        "RPA_OUTPUT_WORKITEM_PATH": "output/posteingang/work-items-out/work-items.json",
        "RATHAUS_HOME": "var/devdata",
    }
    write_env(folder, env, indent=4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the .eml files")
    parser.add_argument("--maildir", type=Path, help="also deliver the mails into this Maildir's inbox")
    parser.add_argument("--city", default="limburg", help="city whose mailbox the mails go to (default limburg)")
    parser.add_argument("--devdata", type=Path, help="also write Robocorp devdata/ into this folder")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    paths = generate(args.out, args.city, args.seed)
    if args.maildir:
        deliver(paths, args.maildir)
    if args.devdata:
        write_devdata(args.devdata, paths, args.city, args.seed)
    print(f"{len(paths)} Beispielmails für {args.city} in {args.out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
