"""Mail intake over a WAN-like link: rathaus.Mail against rpaframework's RPA.Email.ImapSmtp.

Starts Dovecot (tests/support/dovecot.py), delivers 300 mails with a small PDF each, and measures, through
a proxy that adds 10 ms per chunk and direction, on the IMAPS port: open the mailbox, list all messages,
save every attachment. Both must save 300 files. Target: rathaus at least 8x faster.

    .venv/bin/python benchmarks/bench_mail.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # support.dovecot (a foreign `tests` package shadows tests.support)
sys.path.insert(0, str(ROOT / "benchmarks"))

from latency_proxy import LatencyProxyProcess  # noqa: E402
from support.dovecot import Dovecot  # noqa: E402

MAILS = 300
TARGET = 8.0
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _mails(tmp: Path) -> list[bytes]:
    from rathaus.mail.smtp import build_message

    result = []
    for number in range(1, MAILS + 1):
        pdf = tmp / f"antrag-{number:03d}.pdf"
        pdf.write_bytes(PDF)
        result.append(
            build_message(
                f"buerger{number}@example.de", ["uvg@giessen.de"], f"Antrag {number}", "Anbei mein Antrag.",
                attachments=[pdf],
            ).as_bytes()
        )
    return result


def _rathaus(server: Dovecot, port: int, out: Path) -> int:
    from rathaus.mail import Mail

    library = Mail()
    library.open_mailbox(
        f"imaps://uvg@127.0.0.1:{port}", password=server.users["uvg"], ca_file=str(server.cert_file)
    )
    saved = 0
    for message in library.list_messages():
        saved += len(library.save_attachments(message, out))
    library.close_mailbox()
    return saved


def _rpa(server: Dovecot, port: int, out: Path) -> int:
    from RPA.Email.ImapSmtp import ImapSmtp

    library = ImapSmtp()
    library.authorize_imap("uvg", server.users["uvg"], "127.0.0.1", port)
    saved = 0
    for message in library.list_messages("ALL"):
        saved += len(library.save_attachment(message, str(out), overwrite=False))
    library.imap_conn.logout()
    return saved


def run() -> list[dict]:
    """Run the benchmark once; one row per scenario."""
    import rathaus.mail  # noqa: F401
    import RPA.Email.ImapSmtp  # noqa: F401  imports outside the timed part, for both sides
    with tempfile.TemporaryDirectory(prefix="rathaus-bench-") as tmp, Dovecot() as server:
        work = Path(tmp)
        os.environ["SSL_CERT_FILE"] = str(server.cert_file)  # for rpaframework's IMAP4_SSL
        (work / "src").mkdir()
        # Delivered as read: rpaframework's list_messages fetches RFC822 on a read-write INBOX, Dovecot then
        # reports the new \Seen flag inside the FETCH response ("UID n FLAGS (...) RFC822"), which its UID
        # regex does not expect, and it silently returns no messages at all for unread mail.
        for raw in _mails(work / "src"):
            server.deliver("uvg", "INBOX", raw, flags=("\\Seen",))
        with LatencyProxyProcess(("127.0.0.1", server.port_imaps), delay=0.010) as proxy:
            times = {}
            for name, action in (("rathaus", _rathaus), ("rpa", _rpa)):
                out = work / name
                out.mkdir()
                start = time.perf_counter()
                saved = action(server, proxy.port, out)
                times[name] = time.perf_counter() - start
                files = len(list(out.iterdir()))
                if saved != MAILS or files != MAILS:
                    raise SystemExit(f"{name}: saved {saved} attachments, {files} files; expected {MAILS}")
    ratio = times["rpa"] / times["rathaus"]
    return [
        {
            "name": f"imaps list + save attachments, {MAILS} mails, 10 ms/chunk/direction",
            "rathaus_s": round(times["rathaus"], 2),
            "rpa_s": round(times["rpa"], 2),
            "ratio": round(ratio, 1),
            "target": TARGET,
        }
    ]


def main() -> int:
    rows = run()
    ok = True
    for row in rows:
        print(
            f"{row['name']}: rathaus {row['rathaus_s']:.2f} s, rpaframework {row['rpa_s']:.2f} s, "
            f"{row['ratio']:.1f}x (target >= {row['target']:g}x)"
        )
        ok = ok and row["ratio"] >= row["target"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
