"""Generate realistic sample trade notices (GewA1, GewA2, GewA3) for the process 'gewerbeanzeige'.

Writes one ``.eml`` per notice into ``--out`` and, with ``--maildir``, delivers them into that Maildir's
inbox. Ummeldungen and Abmeldungen refer to businesses that the Gewerberegister must already know: with
``--register`` those existing entries ("Bestand") are written into a sandbox register database, e.g. the
one ``rathaus run`` starts for the city. The set is deterministic for a seed and a day (``--heute``) and
covers good notices of each kind, a duplicate Anmeldung and every kind of bad input the robot must hand
to a clerk: a missing required field, an Ummeldung for an unknown business, an Abmeldung before the
registered start, a PDF that is no GewA form, a mail without attachment.

    python processes/gewerbeanzeige/samples/generate.py --city offenbach --out var/samples \\
        --maildir var/offenbach/gewerbe --register var/offenbach/gewerbeanzeige/gewerberegister.sqlite
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

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parents[1]))  # processes/ for the 'gewerbeanzeige' package

from rathaus_sandbox.pdfforms import FieldSpec, build_form  # noqa: E402
from rathaus_sandbox.samples import deliver, write_mail_devdata  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from gewerbeanzeige.anzeige import FORM_TITLES, GEWA1, GEWA2, GEWA3, fields_of  # noqa: E402

CITIES = ("fulda", "giessen", "limburg", "marburg", "offenbach", "wetzlar")

#: The three forms as the PDF form builder draws them.
FORMS: dict[str, tuple[FieldSpec, ...]] = {
    form: tuple(FieldSpec(f.name, f.label, f.kind, f.options) for f in fields_of(form))
    for form in (GEWA1, GEWA2, GEWA3)
}
PDF_TITLES = {form: f"{title} nach § 14 GewO" for form, title in FORM_TITLES.items()}

#: Streets per city, for homes and premises (the city's main postcode is used for all).
STREETS = {
    "fulda": ["Bahnhofstraße", "Friedrichstraße", "Petersberger Straße", "Leipziger Straße", "Heinrichstraße"],
    "giessen": ["Seltersweg", "Bahnhofstraße", "Frankfurter Straße", "Ludwigstraße", "Marburger Straße"],
    "limburg": ["Bahnhofstraße", "Diezer Straße", "Frankfurter Straße", "Grabenstraße", "Schiede"],
    "marburg": ["Bahnhofstraße", "Universitätsstraße", "Wettergasse", "Biegenstraße", "Gutenbergstraße"],
    "offenbach": ["Frankfurter Straße", "Kaiserstraße", "Waldstraße", "Herrnstraße", "Bieberer Straße"],
    "wetzlar": ["Bahnhofstraße", "Langgasse", "Karl-Kellner-Ring", "Hauser Gasse", "Frankfurter Straße"],
}

#: Fictional owners: surname, first name, sex, nationality, birthplace.
OWNERS = [
    ("Öztürk", "Ayşe", "w", "türkisch", "Izmir"),
    ("Schäfer", "Jörg", "m", "deutsch", "Hanau"),
    ("Nguyễn", "Thị Mai", "w", "vietnamesisch", "Hanoi"),
    ("Großmann", "Sören", "m", "deutsch", "Darmstadt"),
    ("Weiß", "Bärbel", "w", "deutsch", "Gießen"),
    ("Kowalczyk", "Małgorzata", "w", "polnisch", "Krakau"),
    ("Becker", "Lena", "w", "deutsch", "Wetzlar"),
    ("Yılmaz", "Emre", "m", "deutsch", "Frankfurt am Main"),
    ("Krämer", "Thomas", "m", "deutsch", "Fulda"),
]


@dataclass
class Sample:
    key: str
    description: str
    form: str | None  # None: no GewA form
    values: dict[str, Any] = field(default_factory=dict)
    sender: str = "kontakt@example.net"
    subject: str = "Gewerbeanzeige"
    no_attachment: bool = False
    #: the register entry this notice refers to (Ummeldung, Abmeldung), as register form values
    bestand: dict[str, Any] | None = None


def _city(city: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "resources" / "cities" / city / "stadt.yaml").read_text(encoding="utf-8"))


def _day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _owner(rng: random.Random, index: int, city: dict[str, Any], streets: list[str]) -> dict[str, Any]:
    name, first, sex, nationality, birthplace = OWNERS[index % len(OWNERS)]
    birth = date(rng.randint(1962, 1999), rng.randint(1, 12), rng.randint(1, 28))
    return {
        "inhaber.name": name, "inhaber.vorname": first, "inhaber.geschlecht": sex,
        "inhaber.geburtsdatum": _day(birth), "inhaber.geburtsort": birthplace,
        "inhaber.staatsangehoerigkeit": nationality,
        "inhaber.strasse": f"{streets[(index + 2) % len(streets)]} {rng.randint(1, 120)}",
        "inhaber.plz": city["anschrift"]["plz"], "inhaber.ort": city["anschrift"]["ort"],
        "inhaber.telefon": f"0{rng.randint(6000, 6999)} {rng.randint(100000, 999999)}",
    }


def _business(
    rng: random.Random, index: int, city: dict[str, Any], streets: list[str], name: str, activity: str, kind: str,
    legal_form: str, employees: int, start: date, *, register: str | None = None, side: bool = False,
) -> dict[str, Any]:
    values = {
        "betrieb.name": name, "betrieb.rechtsform": legal_form,
        "betrieb.strasse": f"{streets[index % len(streets)]} {rng.randint(1, 150)}",
        "betrieb.plz": city["anschrift"]["plz"], "betrieb.ort": city["anschrift"]["ort"],
        "betrieb.taetigkeit": activity, "betrieb.art": kind, "betrieb.nebenerwerb": side,
        "betrieb.beschaeftigte": str(employees), "betrieb.beginn": _day(start),
    }
    if register:
        values["betrieb.registergericht"] = f"Amtsgericht {city['anschrift']['ort']}"
        values["betrieb.registernummer"] = register
    return values


def _signed(values: dict[str, Any], city: dict[str, Any], day: date) -> dict[str, Any]:
    return {**values, "erklaerung.ort": city["anschrift"]["ort"], "erklaerung.datum": _day(day)}


def _register_values(values: dict[str, Any], received: date) -> dict[str, Any]:
    """An existing entry's register form values from a GewA1's values."""
    entry = {key.replace(".", "_"): value for key, value in values.items()
             if key.split(".")[0] in ("inhaber", "betrieb")}
    entry.update(anmeldung_grund="neugruendung", eingang_datum=_day(received), eingang_kanal="post",
                 eingang_referenz="Posteingang 2025/0815", bemerkungen="Bestand aus der Papierakte übernommen.")
    return entry


def samples(city_id: str = "offenbach", seed: int = 2026, today: date | None = None) -> list[Sample]:
    """The deterministic sample set for one city: six good notices (one a duplicate), five bad ones."""
    today = today or date.today()
    rng = random.Random(seed)
    city = _city(city_id)
    streets = STREETS[city_id]
    form = {GEWA1: {"formular": GEWA1}, GEWA2: {"formular": GEWA2}, GEWA3: {"formular": GEWA3}}

    feinkost = {
        **form[GEWA1], **_owner(rng, 0, city, streets),
        **_business(rng, 0, city, streets, "Feinkost am Markt Ayşe Öztürk", "Einzelhandel mit Lebensmitteln und "
                    "Feinkost", "handel", "Einzelunternehmen", 2, today - timedelta(days=14)),
        "anmeldung.grund": "neugruendung", "inhaber.email": "kontakt@feinkost-am-markt.example",
    }
    elektro = {
        **form[GEWA1], **_owner(rng, 1, city, streets),
        **_business(rng, 1, city, streets, "Elektrotechnik Schäfer GmbH",
                    "Elektrotechnikerhandwerk: Elektroinstallation in Wohn- und Gewerbebauten", "handwerk", "GmbH", 5,
                    today - timedelta(days=3),
                    register=f"HRB {rng.randint(40000, 59999)}"),
        "anmeldung.grund": "neugruendung", "inhaber.email": "buero@elektro-gmbh.example",
    }
    beratung = {
        **form[GEWA1], **_owner(rng, 2, city, streets),
        **_business(rng, 2, city, streets, "IT-Beratung Nguyễn", "IT-Beratung und Erstellung von Websites",
                    "sonstiges", "Einzelunternehmen", 0, today + timedelta(days=10), side=True),
        "anmeldung.grund": "neugruendung",
    }
    # Existing businesses that the Ummeldung and the Abmeldungen refer to.
    getraenke_start = today - timedelta(days=400)
    getraenke = {**_owner(rng, 3, city, streets),
                 **_business(rng, 3, city, streets, "Getränkehandel Großmann", "Groß- und Einzelhandel mit Getränken",
                             "handel", "e.K.", 3, getraenke_start, register=f"HRA {rng.randint(1000, 9999)}")}
    blumen_start = today - timedelta(days=700)
    blumen = {**_owner(rng, 4, city, streets),
              **_business(rng, 4, city, streets, "Blumen Weiß", "Einzelhandel mit Blumen und Pflanzen", "handel",
                          "Einzelunternehmen", 1, blumen_start)}
    naehstube_start = today - timedelta(days=100)
    naehstube = {**_owner(rng, 5, city, streets),
                 **_business(rng, 5, city, streets, "Nähstube Kowalczyk", "Änderungsschneiderei", "handwerk",
                             "Einzelunternehmen", 0, naehstube_start)}

    moved = {key: getraenke[key] for key in ("inhaber.name", "inhaber.vorname", "inhaber.geburtsdatum",
                                             "inhaber.geschlecht", "betrieb.name", "betrieb.rechtsform",
                                             "betrieb.registergericht", "betrieb.registernummer", "betrieb.art",
                                             "betrieb.beschaeftigte", "betrieb.taetigkeit", "betrieb.ort",
                                             "betrieb.plz")}
    moved.update(form[GEWA2], **{
        "betrieb.strasse": f"{streets[-1]} {rng.randint(151, 220)}",
        "ummeldung.art": "verlegung", "ummeldung.datum": _day(today - timedelta(days=5)),
        "ummeldung.bisherige_anschrift": f"{getraenke['betrieb.strasse']}, {getraenke['betrieb.plz']} "
                                         f"{getraenke['betrieb.ort']}",
        "inhaber.email": "info@getraenke-handel.example",
    })
    closed = {key: blumen[key] for key in ("inhaber.name", "inhaber.vorname", "inhaber.geburtsdatum",
                                           "inhaber.strasse", "inhaber.plz", "inhaber.ort", "betrieb.name",
                                           "betrieb.strasse", "betrieb.plz", "betrieb.ort", "betrieb.taetigkeit",
                                           "betrieb.art")}
    closed.update(form[GEWA3], **{"abmeldung.datum": _day(today - timedelta(days=2)), "abmeldung.grund": "aufgabe"})
    too_early = {key: naehstube[key] for key in ("inhaber.name", "inhaber.vorname", "inhaber.geburtsdatum",
                                                 "betrieb.name", "betrieb.strasse", "betrieb.plz", "betrieb.ort",
                                                 "betrieb.art")}
    too_early.update(form[GEWA3], **{"abmeldung.datum": _day(naehstube_start - timedelta(days=30)),
                                     "abmeldung.grund": "aufgabe"})
    unknown = {**form[GEWA2], **_owner(rng, 6, city, streets),
               **_business(rng, 6, city, streets, "Kosmetikstudio Becker", "Kosmetik und Fußpflege", "sonstiges",
                           "Einzelunternehmen", 1, today - timedelta(days=200)),
               "ummeldung.art": "taetigkeitserweiterung", "ummeldung.datum": _day(today - timedelta(days=1))}
    incomplete = {**form[GEWA1], **_owner(rng, 7, city, streets),
                  **_business(rng, 7, city, streets, "Imbiss am Bahnhof", "Imbiss ohne Alkoholausschank", "sonstiges",
                              "Einzelunternehmen", 2, today - timedelta(days=7)),
                  "anmeldung.grund": "neugruendung"}
    incomplete["inhaber.geburtsdatum"] = None
    incomplete["betrieb.plz"] = None

    signed = today - timedelta(days=1)
    result = [
        Sample("anmeldung-handel", "Gewerbe-Anmeldung Einzelhandel", GEWA1, _signed(feinkost, city, signed),
               sender="kontakt@feinkost-am-markt.example", subject="Gewerbeanmeldung"),
        Sample("anmeldung-handwerk", "Gewerbe-Anmeldung Handwerksbetrieb (GmbH)", GEWA1, _signed(elektro, city, signed),
               sender="buero@elektro-gmbh.example", subject="Gewerbeanmeldung Elektrotechnik"),
        Sample("anmeldung-nebenerwerb", "Gewerbe-Anmeldung im Nebenerwerb", GEWA1, _signed(beratung, city, signed),
               sender="hallo@webdesign-beratung.example", subject="Anmeldung Nebengewerbe"),
        Sample("ummeldung", "Gewerbe-Ummeldung: Verlegung der Betriebsstätte", GEWA2, _signed(moved, city, signed),
               sender="info@getraenke-handel.example", subject="Ummeldung Gewerbe",
               bestand=_register_values(getraenke, getraenke_start)),
        Sample("abmeldung", "Gewerbe-Abmeldung: Aufgabe", GEWA3, _signed(closed, city, signed),
               sender="laden@blumen-am-eck.example", subject="Abmeldung meines Gewerbes",
               bestand=_register_values(blumen, blumen_start)),
        Sample("anmeldung-doppelt", "dieselbe Gewerbe-Anmeldung noch einmal", GEWA1, _signed(feinkost, city, signed),
               sender="kontakt@feinkost-am-markt.example", subject="Gewerbeanmeldung (nochmals)"),
        Sample("pflichtangaben-fehlen", "Gewerbe-Anmeldung ohne Geburtsdatum und Postleitzahl", GEWA1,
               _signed(incomplete, city, signed), sender="imbiss@bahnhof-imbiss.example", subject="Gewerbeanmeldung"),
        Sample("ummeldung-unbekannt", "Gewerbe-Ummeldung für einen unbekannten Betrieb", GEWA2,
               _signed(unknown, city, signed), sender="studio@kosmetik-studio.example", subject="Ummeldung"),
        Sample("abmeldung-vor-beginn", "Gewerbe-Abmeldung vor dem eingetragenen Beginn", GEWA3,
               _signed(too_early, city, signed), sender="naehstube@aenderungen.example", subject="Abmeldung",
               bestand=_register_values(naehstube, naehstube_start)),
        Sample("kein-formular", "PDF ohne Formularfelder", None, sender="anfrage@example.net",
               subject="Frage zur Gewerbeanmeldung"),
        Sample("ohne-anhang", "Mail ohne Anhang", GEWA1, sender="gruender@example.net",
               subject="Gewerbeanmeldung", no_attachment=True),
    ]
    return result


def _plain_pdf(path: Path) -> Path:
    canvas = Canvas(str(path), pagesize=A4)
    canvas.drawString(72, 760, "Sehr geehrte Damen und Herren,")
    canvas.drawString(72, 740, "welche Unterlagen brauche ich für die Anmeldung eines Gewerbes?")
    canvas.save()
    return path


_FILE_NAMES = {GEWA1: "GewA1_Gewerbeanmeldung.pdf", GEWA2: "GewA2_Gewerbeummeldung.pdf",
               GEWA3: "GewA3_Gewerbeabmeldung.pdf"}


def build_mail(sample: Sample, workdir: Path, index: int, city_id: str, today: date) -> EmailMessage:
    """The mail that the online service (or a business owner) sends for one sample."""
    city = _city(city_id)
    msg = EmailMessage()
    msg["From"] = sample.sender
    msg["To"] = f"{city['aemter'].get('ordnungsamt', {}).get('name', 'Gewerbeamt')} <gewerbe@{city_id}.de>"
    msg["Subject"] = sample.subject
    sent = datetime(today.year, today.month, today.day, 7, 0, tzinfo=timezone.utc) - timedelta(days=1)
    msg["Date"] = format_datetime(sent + timedelta(minutes=index))
    msg["Message-ID"] = f"<gewa-{sample.key}.{index + 1}@anzeige.example.org>"
    if sample.no_attachment:
        msg.set_content("Guten Tag,\n\nhiermit melde ich mein Gewerbe an. Die Angaben reiche ich nach.\n\n"
                        "Mit freundlichen Grüßen\n")
        return msg
    msg.set_content("Sehr geehrte Damen und Herren,\n\nanbei erhalten Sie meine Gewerbeanzeige.\n\n"
                    "Mit freundlichen Grüßen\n")
    if sample.form is None:
        data = _plain_pdf(workdir / f"{sample.key}.pdf").read_bytes()
        msg.add_attachment(data, maintype="application", subtype="pdf", filename="Anfrage.pdf")
    else:
        pdf = build_form(workdir / f"{sample.key}.pdf", PDF_TITLES[sample.form], FORMS[sample.form], sample.values)
        msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf",
                           filename=_FILE_NAMES[sample.form])
    return msg


def generate(out: Path, city: str = "offenbach", seed: int = 2026, today: date | None = None) -> list[Path]:
    """Write the sample mails as ``NN-<key>.eml`` into ``out``; return their paths."""
    today = today or date.today()
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, sample in enumerate(samples(city, seed, today)):
            path = out / f"{index + 1:02d}-{sample.key}.eml"
            path.write_bytes(build_mail(sample, Path(tmp), index, city, today).as_bytes())
            paths.append(path)
    return paths


def seed_register(database: Path, city: str = "offenbach", seed: int = 2026, today: date | None = None) -> list[str]:
    """Write the existing businesses (Bestand) the samples refer to into a sandbox register database.

    Entries already there (same owner, business and start) are kept, so seeding twice changes nothing.
    Returns the Registernummern of the Bestand.
    """
    from rathaus_sandbox.gewerberegister.db import RegisterStore

    store = RegisterStore(database)
    numbers = []
    for sample in samples(city, seed, today):
        if sample.bestand is None:
            continue
        numbers.append(store.find_duplicate(sample.bestand) or store.anmelden(sample.bestand, user="bestand"))
    return numbers


def write_devdata(paths: list[Path], devdata: Path, city: str = "offenbach") -> None:
    """Robocorp-style ``devdata/``: ``env.json`` and one input work item per sample mail, as the producer
    makes them (variables and attachments), so the consumer step can be tried without a mailbox."""
    env = {"RATHAUS_HOME": "var/devdata", f"{city.upper()}_GEWERBEREGISTER_PASSWORT": "nur-fuer-die-sandbox"}
    write_mail_devdata(paths, devdata, env, clean=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the .eml files")
    parser.add_argument("--maildir", type=Path, help="also deliver the mails into this Maildir's inbox")
    parser.add_argument("--city", default="offenbach", choices=CITIES, help="city the notices go to")
    parser.add_argument("--register", type=Path, help="sandbox register database to fill with the Bestand")
    parser.add_argument("--devdata", type=Path, help="also write Robocorp-style devdata/ (work items, env.json)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--heute", type=date.fromisoformat, help="the day the samples are made for (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    paths = generate(args.out, args.city, args.seed, args.heute)
    if args.maildir:
        deliver(paths, args.maildir)
    if args.register:
        numbers = seed_register(args.register, args.city, args.seed, args.heute)
        print(f"{len(numbers)} Betriebe als Bestand im Gewerberegister {args.register}")
    if args.devdata:
        write_devdata(paths, args.devdata, args.city)
    print(f"{len(paths)} Beispiel-Gewerbeanzeigen für {args.city} in {args.out.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
