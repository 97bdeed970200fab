"""Around a city robot of 'nutzungsstatistik': sample exports in, ``rathaus run``, the publication checked.

The robot runs exactly as a city runs it: ``rathaus run <city>/nutzungsstatistik`` in a child process with its
own ``RATHAUS_HOME``. The checks read the published files with other means than the process uses (the
``csv`` module, ``jsonschema`` directly, Pillow, ElementTree) and compare the figures with those the sample
generator put into the exports.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path
from xml.etree import ElementTree

from jsonschema import Draft202012Validator, FormatChecker
from PIL import Image
from robot.api.deco import keyword, library

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "processes")]

from nutzungsstatistik.samples.generate import erwartete_werte, generate, write_correction  # noqa: E402
from support import robots  # noqa: E402

PROCESS = "nutzungsstatistik"
FIGURES = ("aufrufe", "abgeschlossen", "abgebrochen")


@library(scope="SUITE", auto_keywords=False)
class NutzungsstatistikEnvironment:
    """Sample exports, runs of ``rathaus run``, and checks of the publication against schemas and inputs."""

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="rathaus-nutzungsstatistik-"))
        self.expected: dict[str, dict[tuple[str, str, str], dict[str, int]]] = {}
        self.copies: dict[str, bytes] = {}
        self.last_output = ""

    def _exports(self, city: str) -> Path:
        return self.home / city / PROCESS / "exporte"

    def _published(self, city: str) -> Path:
        return self.home / city / PROCESS / "veroeffentlicht"

    @keyword
    def remove_everything(self) -> None:
        """Removes the temporary RATHAUS_HOME with all exports and publications."""
        shutil.rmtree(self.home, ignore_errors=True)

    @keyword
    def drop_sample_exports(self, city: str, year: int = 2025, bad: bool = True) -> int:
        """Generates the sample exports of ``city`` into its export folder; returns how many files."""
        paths = generate(self._exports(city), city, int(year), bad=bool(bad))
        self.expected[city] = erwartete_werte(city, int(year))
        self.copies.update({f"{city}/{path.name}": path.read_bytes() for path in paths})
        return len(paths)

    @keyword
    def drop_the_same_exports_again(self, city: str) -> None:
        """Puts the good exports that the last run filed under ``verarbeitet`` into the export folder again."""
        for path in sorted((self._exports(city) / "verarbeitet").glob("*.csv")):
            shutil.copy2(path, self._exports(city) / path.name)

    @keyword
    def drop_correction_export(self, city: str, month: int, year: int = 2025) -> int:
        """A Civento export that delivers ``month`` again with other figures; returns the number of its rows."""
        _, figures = write_correction(self._exports(city), city, int(year), int(month))
        self.expected[city].update(figures)
        return len(figures)

    @keyword
    def drop_export_with_io_error(self, city: str, name: str) -> None:
        """Puts a file ``name`` into the export folder whose reading fails with an I/O error, as a file on a
        broken network share does: a link to ``/proc/self/mem``, a regular file that cannot be read from its
        start (``OSError: [Errno 5]``), even by root. No error of the reader: an unexpected one."""
        (self._exports(city) / name).symlink_to("/proc/self/mem")

    @keyword
    def unexpected_failures(self, city: str, key: str) -> int:
        """How often the export ``key`` (``Export <name>``) failed unexpectedly in a row, from the robot's ledger."""
        from rathaus.process.failures import FailureLedger

        return FailureLedger(self.home / city / PROCESS / "fehlversuche.json").count(key)

    @keyword
    def run_city_robot(self, robot: str, expected_rc: int = 0, **overrides: object) -> str:
        """Runs ``rathaus run <robot>`` with this suite's RATHAUS_HOME; returns its console output.

        Keyword arguments override config keys given as ``section__key=value``.
        """
        self.last_output = robots.run_city_robot(robot, self.home, expected_rc=expected_rc, overrides=overrides,
                                                 timeout=300)
        return self.last_output

    @keyword
    def output_xml_of_last_run(self) -> Path:
        """The merged ``output.xml`` of the last run (beside the ``log.html`` it printed)."""
        return robots.output_xml(self.last_output)

    @keyword
    def publication_folder(self, city: str) -> Path:
        """The folder the city's robot publishes into (its configuration's ``ziel``)."""
        return self._published(city)

    @keyword
    def files_in_export_folder(self, city: str, sub: str = "") -> list[str]:
        """Names of the files in the export folder or one of its sub-folders, sorted."""
        folder = self._exports(city) / sub
        return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []

    @keyword
    def checksums_of_publication(self, city: str) -> dict[str, str]:
        """File name -> SHA-256 and modification time of every published file."""
        return {p.name: f"{hashlib.sha256(p.read_bytes()).hexdigest()} {p.stat().st_mtime_ns}"
                for p in sorted(self._published(city).iterdir())}

    @keyword
    def published_json_should_match_its_json_schema(self, city: str, year: int = 2025) -> None:
        """Validates the year's JSON against the published JSON Schema with ``jsonschema``."""
        folder = self._published(city)
        document = json.loads((folder / f"nutzungsstatistik-{city}-{year}.json").read_text(encoding="utf-8"))
        schema = json.loads((folder / document["$schema"]).read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        Draft202012Validator(schema, format_checker=FormatChecker()).validate(document)

    @keyword
    def published_csv_should_match_its_table_schema(self, city: str, year: int = 2025) -> int:
        """Checks the CSV against the Table Schema its Data Package names: header, types, constraints,
        primary key; returns the number of rows."""
        folder = self._published(city)
        package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
        resource = next(r for r in package["resources"] if r["path"] == f"nutzungsstatistik-{city}-{year}.csv")
        content = (folder / resource["path"]).read_bytes()
        if resource["hash"] != f"sha256:{hashlib.sha256(content).hexdigest()}" or resource["bytes"] != len(content):
            raise AssertionError("The Data Package's hash or size of the CSV is wrong.")
        schema = json.loads((folder / resource["schema"]).read_text(encoding="utf-8"))
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))
        fields = schema["fields"]
        if rows[0] != [f["name"] for f in fields]:
            raise AssertionError(f"Header {rows[0]} is not the schema's field list.")
        keys = set()
        for number, row in enumerate(rows[1:], start=2):
            for value, spec in zip(row, fields, strict=True):
                if spec["type"] == "integer" and not (value.isdigit() and int(value) >= spec["constraints"]["minimum"]):
                    raise AssertionError(f"Line {number}, {spec['name']}: {value!r} is no count.")
                if spec["type"] == "yearmonth" and not (len(value) == 7 and value.startswith(f"{year}-")):
                    raise AssertionError(f"Line {number}, {spec['name']}: {value!r} is no month of {year}.")
                if spec["constraints"].get("required") and not value:
                    raise AssertionError(f"Line {number}, {spec['name']}: empty.")
            key = tuple(row[[f["name"] for f in fields].index(k)] for k in schema["primaryKey"])
            if key in keys:
                raise AssertionError(f"Line {number}: primary key {key} repeated.")
            keys.add(key)
        return len(rows) - 1

    @keyword
    def published_figures_should_match_the_exports(self, city: str, year: int = 2025) -> int:
        """Compares every row of the CSV and the JSON with the figures the sample exports hold; returns the
        number of rows compared."""
        folder = self._published(city)
        expected = {key: value for key, value in self.expected[city].items() if key[0].startswith(f"{year}-")}
        text = (folder / f"nutzungsstatistik-{city}-{year}.csv").read_text(encoding="utf-8")
        key_columns = ("monat", "onlinedienst", "plattform")
        from_csv = {tuple(r[k] for k in key_columns): {k: int(v) for k, v in r.items() if k not in key_columns}
                    for r in csv.DictReader(io.StringIO(text, newline=""))}
        if from_csv != expected:
            wrong = [k for k in sorted(set(from_csv) | set(expected)) if from_csv.get(k) != expected.get(k)][:3]
            raise AssertionError(f"CSV differs from the exports, e.g. at {wrong}")
        document = json.loads((folder / f"nutzungsstatistik-{city}-{year}.json").read_text(encoding="utf-8"))
        for row in document["daten"]:
            figures = expected[(row["monat"], row["onlinedienst"], row["plattform"])]
            flat = {**{k: row[k] for k in FIGURES},
                    **{f"zahlung_{k}": v for k, v in row["zahlungsarten"].items()},
                    **{f"authentifizierung_{k}": v for k, v in row["authentifizierung"].items()}}
            if flat != figures:
                raise AssertionError(f"JSON row {row['monat']} {row['plattform']} differs from the exports.")
        if len(document["daten"]) != len(expected):
            raise AssertionError(f"JSON has {len(document['daten'])} rows, the exports {len(expected)}.")
        return len(expected)

    @keyword
    def charts_should_be_a_png_and_an_svg(self, city: str, year: int = 2025) -> None:
        """The PNG opens with Pillow, the SVG is well-formed XML with an ``<svg>`` root and a title."""
        base = self._published(city) / f"nutzungsstatistik-{city}-{year}"
        with Image.open(base.with_suffix(".png")) as image:
            image.verify()
            if image.format != "PNG":
                raise AssertionError(f"The chart is {image.format}, not PNG.")
        root = ElementTree.fromstring(base.with_suffix(".svg").read_bytes())
        if root.tag != "{http://www.w3.org/2000/svg}svg":
            raise AssertionError(f"SVG root is {root.tag}.")
        if str(year) not in "".join(root.itertext()):
            raise AssertionError("The SVG's title does not name the year.")

    @keyword
    def metadata_should_name_publisher_licence_and_period(self, city: str, publisher: str, year: int = 2025) -> None:
        """The DCAT-AP.de metadata name the city as publisher, dl-de/by-2-0 and the year's months."""
        meta = json.loads((self._published(city) / f"nutzungsstatistik-{city}-{year}.metadaten.json")
                          .read_text(encoding="utf-8"))
        checks = {
            "publisher": meta["dct:publisher"]["foaf:name"] == publisher,
            "licence": meta["dct:license"]["@id"] == "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
            "start": meta["dct:temporal"]["dcat:startDate"] == f"{year}-01-01",
            "end": meta["dct:temporal"]["dcat:endDate"] == f"{year}-12-31",
            "modified": len(meta["dct:modified"]) == 10,
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise AssertionError(f"Metadata wrong: {failed}")

    @keyword
    def log_should_hold_no_rows_of_the_exports(self, city: str) -> int:
        """No data line of any sample export appears in the last run's ``output.xml``; returns lines checked."""
        xml = self.output_xml_of_last_run().read_text(encoding="utf-8")
        lines = []
        for name, content in self.copies.items():
            if not name.startswith(f"{city}/"):
                continue
            text = content.decode("utf-8-sig") if content.startswith(b"\xef\xbb\xbf") else content.decode("cp1252")
            lines += [line for line in text.splitlines()[1:] if line.strip()]
        leaked = [line for line in lines if line in xml]
        if leaked:
            raise AssertionError(f"{len(leaked)} export rows are in the log, e.g. line of {len(leaked[0])} chars")
        return len(lines)

    @keyword
    def damage_published_json(self, city: str, year: int = 2025) -> None:
        """Overwrites the year's published JSON with a document that breaks its schema, as a careless edit does."""
        path = self._published(city) / f"nutzungsstatistik-{city}-{year}.json"
        path.write_text('{"jahr": "zweitausendfünfundzwanzig"}', encoding="utf-8")

    @keyword
    def note_of_malformed_export(self, city: str, name: str) -> str:
        """The text of the note written beside a malformed export in ``fehlerhaft``."""
        return (self._exports(city) / "fehlerhaft" / f"{name}.fehler.txt").read_text(encoding="utf-8")

    @keyword
    def expected_rows(self, city: str) -> int:
        """Number of month/service/platform rows the city's exports hold."""
        return len(self.expected[city])
