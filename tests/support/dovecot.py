"""A real Dovecot IMAP server for tests, benchmarks and acceptance suites.

Usage::

    with Dovecot(users={"uvg": "Geheim-123"}) as server:
        server.deliver("uvg", "INBOX", raw_bytes)
        ... connect to server.host:server.port_imap (STARTTLS) or server.port_imaps (TLS),
        trusting server.cert_file ...

Everything lives in one temporary folder: configuration, a self-signed certificate for 127.0.0.1, the
passwd file and the Maildirs at ``<root>/mail/<user>``. Dovecot runs in the foreground (``-F``) as a child
process, so :meth:`Dovecot.stop` can end and reap it. Runs as root (the test machines and CI) with the
static userdb mapped to the ``dovecot`` system user; see shared/RECIPES.md.

``move=False`` starts a server that does not advertise the MOVE capability, so clients take the
COPY + \\Deleted + UID EXPUNGE path.

Importable without pytest, for Robot Framework acceptance suites too.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from imapclient import IMAPClient, imap_utf7

DOVECOT = "/usr/sbin/dovecot"
TEMPLATE = Path(__file__).with_name("dovecot.conf.in")
DEFAULT_USERS = {"uvg": "Geheim-Passwort-4711"}

# Post-login capabilities of Dovecot 2.3 without MOVE: enough for clients, and UIDPLUS stays.
CAPABILITIES_WITHOUT_MOVE = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ NAMESPACE UNSELECT CHILDREN "
    "UIDPLUS ESEARCH LIST-EXTENDED LIST-STATUS SPECIAL-USE I18NLEVEL=1"
)

_FLAG_LETTERS = {"\\Seen": "S", "\\Answered": "R", "\\Flagged": "F", "\\Deleted": "T", "\\Draft": "D"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(host: str, port: int, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited with code {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not listen on {host}:{port} within {timeout} s")


class Dovecot:
    """A Dovecot IMAP server in a temporary folder, as a context manager."""

    host = "127.0.0.1"

    def __init__(
        self,
        users: dict[str, str] | None = None,
        *,
        move: bool = True,
        root: str | os.PathLike[str] | None = None,
    ) -> None:
        self.users = dict(users or DEFAULT_USERS)
        self.move = move
        self._own_root = root is None
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="rathaus-dovecot-"))
        self.port_imap = 0
        self.port_imaps = 0
        self.process: subprocess.Popen[bytes] | None = None
        account = pwd.getpwnam("dovecot")
        self._uid, self._gid = account.pw_uid, account.pw_gid

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def cert_file(self) -> Path:
        """The self-signed certificate (PEM) to trust as CA, e.g. as ``ca_file``."""
        return self.root / "cert.pem"

    @property
    def config_file(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_file(self) -> Path:
        return self.root / "dovecot.log"

    def start(self) -> Dovecot:
        if self.process is not None:
            return self
        os.chmod(self.root, 0o755)
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(exist_ok=True)
        self._make_certificate()
        (self.root / "passwd").write_text(
            "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in self.users.items()),
            encoding="utf-8",
        )
        os.chmod(self.root / "passwd", 0o640)
        os.chown(self.root / "passwd", 0, self._gid)
        for user in self.users:
            self.maildir(user, "INBOX")
            (self.root / "home" / user).mkdir(exist_ok=True)
        self._chown_tree(self.root / "mail")
        self._chown_tree(self.root / "home")
        # two tries: a port picked as free can be taken by another test process before Dovecot binds it
        for attempt in (1, 2):
            try:
                self._launch()
                return self
            except RuntimeError:
                if attempt == 2:
                    self.stop()
                    raise
        return self

    def _launch(self) -> None:
        self.port_imap, self.port_imaps = free_port(), free_port()
        capability_line = "" if self.move else f"imap_capability = {CAPABILITIES_WITHOUT_MOVE}"
        self.config_file.write_text(
            TEMPLATE.read_text(encoding="utf-8").format(
                root=self.root,
                port_imap=self.port_imap,
                port_imaps=self.port_imaps,
                capability_line=capability_line,
            ),
            encoding="utf-8",
        )
        stderr_file = self.root / "dovecot.stderr"
        with stderr_file.open("wb") as stderr:
            self.process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            _wait_for_port(self.host, self.port_imap, self.process, 15)
            _wait_for_port(self.host, self.port_imaps, self.process, 15)
        except Exception as error:
            log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
            output = stderr_file.read_text(errors="replace")
            process, self.process = self.process, None
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            raise RuntimeError(f"Dovecot failed to start ({error}). Log:\n{log}\nOutput:\n{output}") from None

    def stop(self) -> None:
        """End the server and, if the folder was made here, remove it."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _make_certificate(self) -> None:
        if self.cert_file.exists():
            return
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-keyout", str(self.root / "key.pem"), "-out", str(self.cert_file),
            ],
            check=True,
            capture_output=True,
        )

    def _chown_tree(self, top: Path) -> None:
        os.chown(top, self._uid, self._gid)
        for dirpath, dirnames, filenames in os.walk(top):
            for name in dirnames + filenames:
                os.chown(os.path.join(dirpath, name), self._uid, self._gid)

    # -- URLs and clients ------------------------------------------------------------------------

    def url(self, user: str = "uvg", *, tls: str = "starttls") -> str:
        """A rathaus mailbox URL: ``tls`` is ``starttls``, ``imaps`` or ``none``."""
        if tls == "imaps":
            return f"imaps://{user}@{self.host}:{self.port_imaps}"
        scheme = "imap+starttls" if tls == "starttls" else "imap"
        return f"{scheme}://{user}@{self.host}:{self.port_imap}"

    def client(self, user: str = "uvg") -> IMAPClient:
        """A logged-in imapclient connection over plain IMAP; use it as a context manager."""
        client = IMAPClient(self.host, self.port_imap, ssl=False, timeout=10)
        try:
            client.login(user, self.users[user])
        except Exception:
            client.shutdown()
            raise
        return client

    # -- the Maildirs on disk --------------------------------------------------------------------

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        """The Maildir folder of ``user`` (Maildir++ layout), created if missing."""
        base = self.root / "mail" / user
        path = base if folder.upper() == "INBOX" else base / ("." + imap_utf7.encode(folder).decode("ascii"))
        for sub in ("", "cur", "new", "tmp"):
            target = path / sub if sub else path
            if not target.exists():
                target.mkdir(parents=True)
                os.chown(target, self._uid, self._gid)
        if path != base and not (path / "maildirfolder").exists():
            (path / "maildirfolder").touch()
            os.chown(path / "maildirfolder", self._uid, self._gid)
        return path

    _counter = 0

    def deliver(self, user: str, folder: str, raw: bytes, *, flags: tuple[str, ...] = ()) -> str:
        """Put one message into a folder as a mail server's delivery would; returns its file name."""
        path = self.maildir(user, folder)
        Dovecot._counter += 1
        now = time.time()
        name = f"{int(now)}.M{int(now % 1 * 1e6)}P{os.getpid()}Q{Dovecot._counter}.rathaus-test"
        tmp = path / "tmp" / name
        tmp.write_bytes(raw)
        os.chown(tmp, self._uid, self._gid)
        if flags:
            letters = "".join(sorted(_FLAG_LETTERS[flag] for flag in flags))
            os.rename(tmp, path / "cur" / f"{name}:2,{letters}")
        else:
            os.rename(tmp, path / "new" / name)
        return name

    def _files(self, user: str, folder: str) -> list[Path]:
        path = self.maildir(user, folder)
        files = [p for sub in ("new", "cur") for p in (path / sub).iterdir() if p.is_file()]
        return sorted(files, key=lambda p: p.name)

    def count(self, user: str, folder: str = "INBOX") -> int:
        """How many messages the folder holds on disk (including ones flagged \\Deleted)."""
        return len(self._files(user, folder))

    def messages(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """The raw messages of a folder, oldest file name first."""
        return [p.read_bytes() for p in self._files(user, folder)]

    def folders(self, user: str) -> list[str]:
        """The folder names of ``user`` on disk, INBOX first."""
        base = self.root / "mail" / user
        names = [
            imap_utf7.decode(p.name[1:].encode("ascii"))
            for p in base.iterdir()
            if p.is_dir() and p.name.startswith(".") and (p / "cur").is_dir()
        ]
        return ["INBOX", *sorted(names)]
