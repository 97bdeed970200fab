"""One long-lived LibreOffice for all PDF conversions of a robot process, through ``unoserver``.

Starting LibreOffice for every letter costs about 0.9 s, most of a case's time. :class:`OfficeServer` starts
``unoserver`` (the XML-RPC server of the unoserver project, which keeps one LibreOffice running) on the first
conversion and converts every further letter through it, about 0.1 s each. It is restarted when it died; a
conversion that hangs is given up after its timeout, LibreOffice is killed and restarted for the next letter, and
only that letter fails (:class:`PdfExportError`, an application error of its case).

``unoserver``'s server needs LibreOffice's Python bridge (``uno``): Debian's ``python3-uno`` for ``/usr/bin/python3``,
or the Python that a LibreOffice installation brings along. The robot's own Python needs only the client (the PyPI
package ``unoserver``, pure Python). Where either is missing, :func:`office_server` returns ``None`` and the caller
converts with one LibreOffice per letter as before. ``RATHAUS_UNO_PYTHON`` names the Python with ``uno`` explicitly;
``RATHAUS_OFFICE_SERVER=off`` turns the long-lived LibreOffice off.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from robot.api import logger

from rathaus.documents.errors import PdfExportError

#: the Python interpreter with LibreOffice's ``uno`` module, if not found by itself
UNO_PYTHON_ENV = "RATHAUS_UNO_PYTHON"
#: ``off`` converts with one LibreOffice per letter
SERVER_ENV = "RATHAUS_OFFICE_SERVER"
#: seconds LibreOffice may take to start and answer
START_TIMEOUT = 60.0
#: runs unoserver's server from the folder that holds only its package (argv[1]), with the remaining arguments
_BOOT = ("import sys; sys.path.insert(0, sys.argv.pop(1)); sys.argv[0] = 'unoserver'; "
         "from unoserver.server import main; sys.exit(main())")

_LOCK = threading.Lock()
_SERVERS: dict[str, OfficeServer | None] = {}
_UNO_PYTHON: dict[str, str | None] = {}


class _Transport(xmlrpc.client.Transport):
    """XML-RPC over HTTP with a socket timeout, so that a LibreOffice that does not answer cannot block for ever."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = self.timeout
        return connection


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _term_with_parent() -> None:
    """``preexec_fn``: SIGTERM when the robot process dies, which unoserver passes on to its LibreOffice."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def uno_python(soffice: str) -> str | None:
    """A Python interpreter that can ``import uno``: ``RATHAUS_UNO_PYTHON``, LibreOffice's own, the system's."""
    if soffice in _UNO_PYTHON:
        return _UNO_PYTHON[soffice]
    program = Path(os.path.realpath(soffice)).parent
    candidates = [os.environ.get(UNO_PYTHON_ENV), str(program / "python"), "/usr/bin/python3", shutil.which("python3")]
    found = None
    for candidate in dict.fromkeys(c for c in candidates if c):
        if not os.access(candidate, os.X_OK):
            continue
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            check = subprocess.run([candidate, "-c", "import uno"], capture_output=True, timeout=30, check=False)
            if check.returncode == 0:
                found = candidate
                break
    _UNO_PYTHON[soffice] = found
    return found


def _office_binary(soffice: str) -> str:
    """``soffice.bin`` beside the ``soffice`` start script: then a signal to it reaches LibreOffice itself."""
    program = Path(os.path.realpath(soffice)).parent
    binary = program / "soffice.bin"
    return str(binary) if binary.is_file() else soffice


class OfficeServer:
    """unoserver with one LibreOffice, started on the first conversion; thread-safe, one conversion at a time."""

    def __init__(self, soffice: str, python: str) -> None:
        self.soffice, self.python = soffice, python
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._work: Path | None = None
        self._lock = threading.Lock()
        self.starts = 0
        #: it did not start: the caller converts with one LibreOffice per letter instead
        self.broken = False

    # -- life ------------------------------------------------------------------------------------------------

    def _pid_file(self) -> Path | None:
        return self._work / "libreoffice.pid" if self._work else None

    def _office_pid(self) -> int | None:
        path = self._pid_file()
        with contextlib.suppress(OSError, ValueError):
            return int(path.read_text().strip()) if path else None
        return None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        import unoserver

        self.stop()
        self._work = Path(tempfile.mkdtemp(prefix="rathaus-office-"))
        package = self._work / "pfad"
        package.mkdir()
        (package / "unoserver").symlink_to(Path(unoserver.__file__).parent, target_is_directory=True)
        for dist_info in Path(unoserver.__file__).parent.parent.glob("unoserver-*.dist-info"):  # its version
            (package / dist_info.name).symlink_to(dist_info, target_is_directory=True)
        self.port = _free_port()
        office, profile = _office_binary(self.soffice), self._work / "profil"
        if office.endswith(".bin"):
            # a new profile makes LibreOffice exit (code 81) to be restarted by its launcher: made here first,
            # so that unoserver's LibreOffice is soffice.bin itself, whose pid it records and signals reach
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run([office, "--headless", "--norestore", "--terminate_after_init",
                                f"-env:UserInstallation={profile.as_uri()}"], stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=START_TIMEOUT, check=False)
        command = [self.python, "-c", _BOOT, str(package), "--interface", "127.0.0.1", "--uno-interface",
                   "127.0.0.1", "--port", str(self.port), "--uno-port", str(_free_port()), "--user-installation",
                   str(profile), "--executable", office,
                   "--libreoffice-pid-file", str(self._pid_file())]
        log = (self._work / "unoserver.log").open("wb")
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                            preexec_fn=_term_with_parent)  # noqa: PLW1509
        finally:
            log.close()
        self.starts += 1
        deadline = time.monotonic() + START_TIMEOUT
        log_path = self._work / "unoserver.log"
        while time.monotonic() < deadline:
            if not self.alive() or "LibreOffice died" in log_path.read_text(errors="replace"):
                break  # (unoserver itself goes on trying for another 40 s after its LibreOffice ended)
            if self._office_pid() and self._answers():  # unoserver records LibreOffice's pid once it is up
                logger.info(f"LibreOffice (unoserver) läuft für die PDF-Umwandlung, Port {self.port}.")
                return
            time.sleep(0.2)
        detail = " ".join((self._work / "unoserver.log").read_text(errors="replace").split())[-300:]
        self.stop(force=True)
        raise PdfExportError(f"LibreOffice für die PDF-Umwandlung startete nicht ({detail or 'ohne Meldung'}): "
                             "Paket 'python3-uno' prüfen; die Briefe liegen als Word-Dateien vor.")

    def _answers(self) -> bool:
        from unoserver.client import API_VERSION

        try:
            with xmlrpc.client.ServerProxy(f"http://127.0.0.1:{self.port}", allow_none=True,
                                           transport=_Transport(5.0)) as proxy:
                return proxy.info()["api"] == API_VERSION  # the calls of _convert are those of this API
        except Exception:  # not up yet: any answer but info counts as no
            return False

    def stop(self, force: bool = False) -> None:
        """Stop unoserver and its LibreOffice (also a hanging one) and remove their profile; ``force``: at once,
        without asking unoserver to end (one that did not start keeps trying for 40 s)."""
        office = self._office_pid()
        if office:  # first LibreOffice, which may hang: then unoserver, waiting for it, ends and reaps it
            with contextlib.suppress(OSError):
                os.kill(office, signal.SIGKILL)
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.kill() if force else self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None

    # -- work ------------------------------------------------------------------------------------------------

    def convert(self, source: Path, target: Path, timeout: float) -> None:
        """``source`` as PDF in ``target``; restarts LibreOffice once when it died, gives up after ``timeout``."""
        with self._lock:
            if not self.alive():
                try:
                    self.start()
                except PdfExportError:
                    self.broken = True  # this process converts with one LibreOffice per letter from now on
                    raise
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.stem}.unfertig{target.suffix}")  # replaced by the finished PDF
            pool = ThreadPoolExecutor(1, thread_name_prefix="pdf")
            job = pool.submit(self._convert, source.resolve(), partial.resolve())
            try:
                job.result(timeout=timeout)
                if partial.is_file() and partial.stat().st_size > 0:
                    os.replace(partial, target)
            except FutureTimeout:
                self.stop()  # LibreOffice hangs: killed; the next letter gets a new one
                raise PdfExportError(f"LibreOffice hat '{source.name}' nicht in {timeout:g} s in PDF umgewandelt "
                                     "und wurde neu gestartet: später erneut versuchen; der Brief liegt als "
                                     "Word-Datei vor.") from None
            except Exception as error:  # LibreOffice's reasons come as XML-RPC faults of any kind
                died = not self.alive()
                if died:
                    self.stop()
                reason = " ".join(str(getattr(error, "faultString", error)).split())[-300:]
                raise PdfExportError(f"LibreOffice konnte '{source.name}' nicht in PDF umwandeln"
                                     f"{' (LibreOffice ist dabei abgestürzt)' if died else ''}: {reason}. Word-Datei "
                                     "prüfen und erneut versuchen.") from None
            finally:
                pool.shutdown(wait=False)
                with contextlib.suppress(OSError):
                    partial.unlink(missing_ok=True)
            if not target.is_file() or target.stat().st_size == 0:
                raise PdfExportError(f"LibreOffice hat aus '{source.name}' kein PDF erzeugt: Word-Datei prüfen und "
                                     "erneut versuchen.")


    def _convert(self, source: Path, target: Path) -> None:
        """unoserver's ``convert`` call (API 3) as its ``UnoClient.convert`` makes it for a local file, without
        the client's ``info`` request before each letter (the server's version is checked once, at its start)."""
        with xmlrpc.client.ServerProxy(f"http://127.0.0.1:{self.port}", allow_none=True) as proxy:
            # inpath, indata, outpath, convert_to, filtername, filter_options, update_index, infiltername, password
            # Word's import and Writer's PDF export named: LibreOffice need not detect them for every letter
            infilter = "MS Word 2007 XML" if source.suffix.lower() == ".docx" else None
            proxy.convert(str(source), None, str(target), "pdf", "writer_pdf_Export", [], False, infilter, None)


def office_server(soffice: str) -> OfficeServer | None:
    """The process's long-lived LibreOffice for ``soffice``, or ``None`` when it cannot be had (then one
    LibreOffice per letter): ``RATHAUS_OFFICE_SERVER=off``, no ``unoserver`` client, no Python with ``uno``."""
    if os.environ.get(SERVER_ENV, "").lower() == "off":
        return None
    with _LOCK:
        if soffice in _SERVERS:
            return _SERVERS[soffice]
        try:
            import unoserver.client  # noqa: F401
        except ImportError:
            server = None
        else:
            python = uno_python(soffice)
            server = OfficeServer(soffice, python) if python else None
        if server is None:
            logger.info("Keine dauerhafte LibreOffice-Instanz (unoserver und python3-uno): jeder Brief startet "
                        "LibreOffice neu.")
        _SERVERS[soffice] = server
        return server


@atexit.register
def _stop_all() -> None:
    for server in list(_SERVERS.values()):
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()
