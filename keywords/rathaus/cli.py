"""The ``rathaus`` command line: city robots, process sharing, control room, PDFs, mails and e-invoices.

Exit codes: 0 success, 1 the run itself failed or ``check`` found problems, 2 the input could not be read or
is invalid (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rathaus.errors import BusinessError, RathausError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def _cmd_pdf_fields(args: argparse.Namespace) -> int:
    from rathaus.pdf.reader import read_fields

    fields = read_fields(args.file)
    if args.json:
        _print_json(fields)
    else:
        for name, value in fields.items():
            print(f"{name}: {value if value is not None else ''}")
    return EXIT_OK


def _cmd_pdf_text(args: argparse.Namespace) -> int:
    from rathaus.pdf.reader import parse_page_spec, read_text

    try:
        pages = parse_page_spec(args.pages)
    except ValueError as error:
        raise BusinessError(str(error)) from None
    texts = read_text(args.file, pages)
    if args.json:
        _print_json(texts)
    else:
        sys.stdout.write("\n\f".join(texts.values()))
        sys.stdout.write("\n")
    return EXIT_OK


def _cmd_mail_show(args: argparse.Namespace) -> int:
    from rathaus.mail.message import summarize_eml

    summary = summarize_eml(args.file)
    if args.json:
        _print_json(summary)
    else:
        for key in ("subject", "from", "date", "message_id"):
            print(f"{key}: {summary.get(key) or ''}")
        for att in summary["attachments"]:
            print(f"attachment: {att['filename']} ({att['content_type']}, {att['size']} bytes)")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from rathaus.core.runner import run_robot

    return run_robot(args.robot, config_override=args.config, output_root=args.output, result_file=args.result,
                     skip_intake=args.skip_intake)


def _cmd_processes(args: argparse.Namespace) -> int:
    from rathaus.core.catalogue import catalogue
    from rathaus.core.project import Project

    entries = catalogue(Project.locate())
    if args.json:
        _print_json([entry.as_dict() for entry in entries])
        return EXIT_OK
    rows = [("Prozess", "Eigentümer", "Version", "Übernommen von")]
    for entry in entries:
        cities = ", ".join(a.city if a.version == entry.version else f"{a.city} ({a.version})"
                           for a in entry.adoptions)
        rows.append((entry.name, entry.owner, entry.version, cities or "–"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3])
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from rathaus.core.catalogue import check_all
    from rathaus.core.project import Project

    project = Project.locate()
    robots, findings = check_all(project)
    for finding in findings:
        print(f"FEHLER {finding.text(project.root)}")
    if findings:
        print(f"{len(findings)} Fehler in {len(robots)} Stadt-Robotern und ihren Prozessen.")
        return EXIT_FAILED
    print(f"Alle {len(robots)} Stadt-Roboter passen zu ihren Prozessen: {', '.join(robots)}.")
    return EXIT_OK


def _cmd_package(args: argparse.Namespace) -> int:
    from rathaus.core.packaging import build_package
    from rathaus.core.project import Project

    path = build_package(Project.locate(), args.robot, args.output)
    print(path)
    return EXIT_OK


#: commands of the control room package (``rathaus[controlroom]``)
CONTROLROOM_COMMANDS = ("controlroom", "runner", "users", "tokens")


def _cmd_no_controlroom(args: argparse.Namespace) -> int:
    print(f"rathaus: '{args.command}' gehört zum Kontrollraum, der hier nicht installiert ist: "
          "bitte mit pip install 'rathaus[controlroom]' nachinstallieren.", file=sys.stderr)
    return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rathaus", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a city robot locally, e.g. 'giessen/unterhaltsvorschuss'")
    run.add_argument("robot", help="<city>/<process>")
    run.add_argument("--config", type=Path, help="YAML file whose keys override the robot's config.yaml")
    run.add_argument("--output", type=Path, help="folder for the run's logs (default: ./output)")
    run.add_argument("--result", type=Path, help="write the run's result (state, each case's outcome) as JSON here")
    run.add_argument("--skip-intake", action="store_true",
                     help="leave out the steps that only take cases in (mailbox): work on the queued cases only")
    run.set_defaults(func=_cmd_run)

    processes = sub.add_parser("processes", help="the process catalogue: owner, version, adopting cities")
    processes.add_argument("--json", action="store_true", help="print one JSON list")
    processes.set_defaults(func=_cmd_processes)

    check = sub.add_parser("check", help="validate every process, every city's master data and every city robot")
    check.set_defaults(func=_cmd_check)

    package = sub.add_parser("package", help="build a robot.zip for Robocorp tooling, e.g. 'fulda/e-rechnung'")
    package.add_argument("robot", help="<city>/<process>")
    package.add_argument("--output", type=Path, help="folder for the zip (default: ./build)")
    package.set_defaults(func=_cmd_package)

    pdf = sub.add_parser("pdf", help="read PDF forms and text").add_subparsers(dest="pdf_command", required=True)
    fields = pdf.add_parser("fields", help="the form's fields as name -> value")
    fields.add_argument("file", type=Path)
    fields.add_argument("--json", action="store_true", help="print one JSON object")
    fields.set_defaults(func=_cmd_pdf_fields)
    text = pdf.add_parser("text", help="the text of some or all pages")
    text.add_argument("file", type=Path)
    text.add_argument("--pages", help="pages to read, e.g. 1,3-5 (default: all)")
    text.add_argument("--json", action="store_true", help="print page number -> text as JSON")
    text.set_defaults(func=_cmd_pdf_text)

    mail = sub.add_parser("mail", help="inspect mails").add_subparsers(dest="mail_command", required=True)
    show = mail.add_parser("show", help="headers and attachments of an .eml file")
    show.add_argument("file", type=Path)
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(func=_cmd_mail_show)

    from rathaus.einvoice.cli import add_parser as add_invoice_parser

    add_invoice_parser(sub)

    try:
        from rathaus_controlroom.cli import add_parsers as add_controlroom_parsers
        from rathaus_controlroom.runner_cli import add_parser as add_runner_parser
    except ImportError:  # the robot runtime without the extra ``rathaus[controlroom]``
        for name in CONTROLROOM_COMMANDS:
            sub.add_parser(name, help="(needs rathaus[controlroom])").set_defaults(func=_cmd_no_controlroom)
    else:
        add_controlroom_parsers(sub)
        add_runner_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RathausError as error:
        print(f"rathaus: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT if args.command in ("pdf", "mail", "invoice") else EXIT_FAILED
    except BrokenPipeError:
        # the reader went away (``| head``): stop quietly, as other command line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
