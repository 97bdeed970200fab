"""``rathaus runner --url URL --token-file FILE --work DIR``: a runner on another machine.

The lead wires :func:`add_parser` into ``rathaus.cli.build_parser``. The token is read from a file (owner-only
permissions recommended) or given with ``--token``; a file keeps it out of the process list and shell history.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from rathaus.errors import BusinessError


def _token(args: argparse.Namespace) -> list[str]:
    if args.token_file:
        try:
            text = Path(args.token_file).read_text(encoding="utf-8")
        except OSError as error:
            raise BusinessError(f"Token-Datei '{args.token_file}' ist nicht lesbar ({error.strerror}).") from None
        tokens = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        tokens = [args.token.strip()] if args.token else []
    if not tokens or not all(t.startswith("rr_") for t in tokens):
        raise BusinessError("Runner-Token fehlt oder ist ungültig: erwartet wird ein Token 'rr_…' "
                            "(rathaus-Kontrollraum, Administration → Runner).")
    return tokens


def _cmd_runner(args: argparse.Namespace) -> int:
    from rathaus_controlroom.runner import run_forever

    tokens = _token(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"Runner verbindet sich mit {args.url}; Arbeitsordner {args.work}. Beenden mit Strg+C.", flush=True)
    run_forever(args.url, tokens, args.work, poll_s=args.poll, stop_event=stop)
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``runner`` on the ``rathaus`` command line."""
    parser = subparsers.add_parser("runner", help="claim and execute the control room's runs on this machine")
    parser.add_argument("--url", required=True, help="address of the control room, e.g. https://kontrollraum.example")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--token-file", type=Path, help="file with the runner token (rr_…), one per city per line")
    source.add_argument("--token", help="the runner token (rr_…); prefer --token-file")
    parser.add_argument("--work", type=Path, default=Path("var/runner"), help="work folder for runs")
    parser.add_argument("--poll", type=float, default=5.0, help="seconds between claims when idle")
    parser.set_defaults(func=_cmd_runner)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m rathaus_controlroom.runner_cli --url … --token-file …`` (same as ``rathaus runner``)."""
    import sys

    parser = argparse.ArgumentParser(prog="rathaus")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["runner", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
    except BusinessError as error:
        print(f"rathaus: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
