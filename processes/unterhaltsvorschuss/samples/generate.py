"""Generate realistic sample applications for the process 'unterhaltsvorschuss'.

Writes one ``.eml`` per application into ``--out`` and, with ``--maildir``, delivers them into that
Maildir's inbox. The set is deterministic and covers good applications and every kind of bad input the
robot must handle: a missing enclosure, missing fields, a child too old, a broken PDF, a mail without
attachment, and a mail that is not an application form.

    python processes/unterhaltsvorschuss/samples/generate.py --out var/samples --maildir var/giessen/uvg
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # processes/ for the 'unterhaltsvorschuss' package

from rathaus_sandbox.pdfforms import FieldSpec, build_form  # noqa: E402
from rathaus_sandbox.samples import deliver, write_mail_devdata  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from unterhaltsvorschuss.antrag import FIELDS  # noqa: E402

TITLE = "Antrag auf Leistungen nach dem Unterhaltsvorschussgesetz (UVG)"

#: The application form as the PDF form builder draws it.
FORM: tuple[FieldSpec, ...] = tuple(FieldSpec(f.name, f.label, f.kind, f.options) for f in FIELDS)

#: A complete, plausible application with umlauts, for tests and benchmarks.
EXAMPLE: dict[str, Any] = {
    "antragsteller.name": "Müller",
    "antragsteller.vorname": "Jürgen",
    "antragsteller.geburtsdatum": "14.03.1988",
    "antragsteller.strasse": "Frankfurter Straße 12",
    "antragsteller.plz": "35392",
    "antragsteller.ort": "Gießen",
    "antragsteller.familienstand": "geschieden",
    "antragsteller.staatsangehoerigkeit": "deutsch",
    "antragsteller.iban": "DE02120300000000202051",
    "antragsteller.email": "juergen.mueller@example.org",
    "antragsteller.telefon": "0641 123456",
    "antragsteller.lebt_mit_kind": True,
    "kind.name": "Müller",
    "kind.vorname": "Zoë",
    "kind.geburtsdatum": "02.09.2017",
    "kind.geburtsort": "Gießen",
    "kind.geschlecht": "w",
    "elternteil.name": "Schäfer",
    "elternteil.vorname": "Björn",
    "elternteil.anschrift_bekannt": "nein",
    "elternteil.anschrift": None,
    "elternteil.vaterschaft_festgestellt": "ja",
    "einkommen.waisenrente": "0,00",
    "einkommen.unterhalt": "0,00",
    "leistung.beginn": "05.2025",
    "anlagen.geburtsurkunde": True,
    "anlagen.unterhaltstitel": False,
    "erklaerung.ort": "Gießen",
    "erklaerung.datum": "28.04.2025",
}

APPLICANTS = [
    ("Müller", "Jürgen", "Schloßgasse 7", "35390", "Gießen"),
    ("Schäfer", "Anna-Lena", "Frankfurter Straße 112", "35392", "Gießen"),
    ("Öztürk", "Ayşe", "Marburger Straße 3a", "35396", "Gießen"),
    ("Weiß", "Bärbel", "Südanlage 19", "35390", "Gießen"),
    ("Großmann", "Sören", "Licher Straße 44", "35394", "Gießen"),
    ("Kowalczyk", "Małgorzata", "Grünberger Straße 230", "35394", "Gießen"),
    ("Becker", "Lena", "Ludwigstraße 61", "35392", "Gießen"),
    ("Nguyễn", "Thị Mai", "Rodheimer Straße 5", "35398", "Gießen"),
]
CHILDREN = ["Lukas", "Mia", "Élodie", "Jörg", "Zoë", "Ben", "Lea", "Mattéo"]
OTHER_PARENTS = [("Krämer", "Thomas"), ("Hoffmann", "Sebastian"), ("Yılmaz", "Emre"), ("Wagner", "Dirk")]
IBANS = [
    "DE89370400440532013000", "DE02120300000000202051", "DE12500105170648489890",
    "DE44500105175407324931", "DE75512108001245126199", "DE02100100100006820101",
    "DE02200505501015871393", "DE88100900001234567892",
]


@dataclass
class Sample:
    key: str
    description: str
    values: dict[str, Any] | None  # None: no form
    enclosures: list[str] = field(default_factory=list)
    broken_pdf: bool = False
    not_a_form: bool = False


def _values(rng: random.Random, index: int, child_age: int) -> dict[str, Any]:
    name, first, street, plz, town = APPLICANTS[index % len(APPLICANTS)]
    other = OTHER_PARENTS[index % len(OTHER_PARENTS)]
    today = date.today()
    start = date(today.year, today.month, 1)
    # born 1 to 300 days before the child_age-th birthday falls on the benefit start: exactly child_age
    child_birth = date(start.year - child_age, start.month, 1) - timedelta(days=rng.randint(1, 300))
    known = rng.random() < 0.7
    return {
        "antragsteller.name": name,
        "antragsteller.vorname": first,
        "antragsteller.geburtsdatum": f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(1978, 1998)}",
        "antragsteller.strasse": street,
        "antragsteller.plz": plz,
        "antragsteller.ort": town,
        "antragsteller.familienstand": rng.choice(["ledig", "geschieden", "getrennt", "verwitwet"]),
        "antragsteller.staatsangehoerigkeit": rng.choice(["deutsch", "deutsch", "türkisch", "polnisch"]),
        "antragsteller.iban": IBANS[index % len(IBANS)],
        "antragsteller.email": f"antrag{index + 1}@example.org",
        "antragsteller.telefon": f"0641 {rng.randint(100000, 999999)}",
        "antragsteller.lebt_mit_kind": True,
        "kind.name": name,
        "kind.vorname": CHILDREN[index % len(CHILDREN)],
        "kind.geburtsdatum": child_birth.strftime("%d.%m.%Y"),
        "kind.geburtsort": rng.choice(["Gießen", "Wetzlar", "Marburg", "Frankfurt am Main"]),
        "kind.geschlecht": rng.choice(["w", "m", "d"]),
        "elternteil.name": other[0],
        "elternteil.vorname": other[1],
        "elternteil.anschrift_bekannt": "ja" if known else "nein",
        "elternteil.anschrift": f"Hauptstraße {rng.randint(1, 90)}, 35578 Wetzlar" if known else None,
        "elternteil.vaterschaft_festgestellt": rng.choice(["ja", "ja", "nein"]),
        "einkommen.waisenrente": "0,00",
        "einkommen.unterhalt": rng.choice(["0,00", "50,00", "120,50"]),
        "leistung.beginn": start.strftime("%m.%Y"),
        "anlagen.geburtsurkunde": True,
        "anlagen.unterhaltstitel": False,
        "erklaerung.ort": town,
        "erklaerung.datum": today.strftime("%d.%m.%Y"),
    }


def samples(good: int = 4, seed: int = 2026) -> list[Sample]:
    """The deterministic sample set: ``good`` complete applications, then one of each bad kind."""
    rng = random.Random(seed)
    result = [
        Sample(f"gut-{i + 1}", "vollständiger Antrag", _values(rng, i, rng.randint(1, 15)), ["Geburtsurkunde.pdf"])
        for i in range(good)
    ]
    missing = _values(rng, good, 6)
    missing["anlagen.geburtsurkunde"] = False
    result.append(Sample("nachforderung", "Geburtsurkunde fehlt", missing))
    incomplete = _values(rng, good + 1, 9)
    incomplete["kind.geburtsdatum"] = None
    incomplete["antragsteller.iban"] = None
    result.append(Sample("unvollstaendig", "Pflichtangaben fehlen", incomplete, ["Geburtsurkunde.pdf"]))
    result.append(Sample("zu-alt", "Kind ist 18 Jahre alt", _values(rng, good + 2, 18), ["Geburtsurkunde.pdf"]))
    result.append(Sample("kaputt", "PDF-Datei beschädigt", _values(rng, good + 3, 4), broken_pdf=True))
    result.append(Sample("ohne-anhang", "Mail ohne Anhang", None))
    result.append(Sample("kein-formular", "PDF ohne Formularfelder", None, not_a_form=True))
    return result


def _birth_certificate(path: Path, values: dict[str, Any]) -> Path:
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(72, 760, "Geburtsurkunde")
    canvas.setFont("Helvetica", 12)
    canvas.drawString(72, 720, f"{values['kind.vorname']} {values['kind.name']}")
    canvas.drawString(72, 700, f"geboren am {values['kind.geburtsdatum']} in {values['kind.geburtsort']}")
    canvas.drawString(72, 660, "Standesamt (Musterausfertigung)")
    canvas.save()
    return path


def _plain_pdf(path: Path) -> Path:
    canvas = Canvas(str(path), pagesize=A4)
    canvas.drawString(72, 760, "Sehr geehrte Damen und Herren, anbei meine Unterlagen.")
    canvas.save()
    return path


def build_mail(sample: Sample, workdir: Path, index: int) -> EmailMessage:
    """The mail that the online service (or an applicant) sends for one sample."""
    values = sample.values or {}
    sender = values.get("antragsteller.email") or f"buerger{index + 1}@example.net"
    msg = EmailMessage()
    display = f"{values.get('antragsteller.vorname', 'Bürger')} {values.get('antragsteller.name', 'Mustermann')}"
    msg["From"] = f"{display} <{sender}>"
    msg["To"] = "Unterhaltsvorschussstelle <uvg@giessen.de>"
    msg["Subject"] = "Antrag auf Unterhaltsvorschuss für mein Kind"
    msg["Date"] = format_datetime(datetime(2026, 11, 2, 8, tzinfo=timezone.utc) + timedelta(minutes=index))
    msg["Message-ID"] = f"<uvg-{sample.key}.{index + 1}@antrag.example.org>"
    msg.set_content(
        "Sehr geehrte Damen und Herren,\n\nanbei sende ich Ihnen meinen Antrag auf Unterhaltsvorschuss.\n\n"
        "Mit freundlichen Grüßen\n"
    )
    pdf_name = f"Antrag_UVG_{values.get('antragsteller.name', 'Unbekannt')}.pdf"
    if sample.values is not None:
        form = build_form(workdir / f"{sample.key}.pdf", TITLE, FORM, values)
        data = form.read_bytes()
        if sample.broken_pdf:
            data = data[: len(data) // 3]
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=pdf_name)
    if sample.not_a_form:
        data = _plain_pdf(workdir / f"{sample.key}.pdf").read_bytes()
        msg.add_attachment(data, maintype="application", subtype="pdf", filename="Scan_Unterlagen.pdf")
    for enclosure in sample.enclosures:
        data = _birth_certificate(workdir / f"{sample.key}-{enclosure}", values).read_bytes()
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=enclosure)
    return msg


def generate(out: Path, good: int = 4, seed: int = 2026) -> list[Path]:
    """Write the sample mails as ``NN-<key>.eml`` into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, sample in enumerate(samples(good, seed)):
            path = out / f"{index + 1:02d}-{sample.key}.eml"
            path.write_bytes(build_mail(sample, Path(tmp), index).as_bytes())
            paths.append(path)
    return paths


def write_devdata(paths: list[Path], devdata: Path) -> None:
    """Robocorp-style ``devdata/``: ``env.json`` and one input work item per sample mail, as the producer
    makes them (variables and attachments), so the consumer step can be tried without a mailbox."""
    write_mail_devdata(paths, devdata, {"RATHAUS_HOME": "var/devdata",
                                        "GIESSEN_UVG_FACHVERFAHREN_PASSWORT": "nur-fuer-die-sandbox"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the .eml files")
    parser.add_argument("--maildir", type=Path, help="also deliver the mails into this Maildir's inbox")
    parser.add_argument("--good", type=int, default=4, help="number of complete applications")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--devdata", type=Path, help="also write Robocorp-style devdata/ (work items, env.json)")
    args = parser.parse_args(argv)
    paths = generate(args.out, args.good, args.seed)
    if args.maildir:
        deliver(paths, args.maildir)
    if args.devdata:
        write_devdata(paths, args.devdata)
    print(f"{len(paths)} Beispielanträge in {args.out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
