"""Crash injection: ``rathaus run giessen/unterhaltsvorschuss`` killed with SIGKILL at random moments, then run
again until done, and what the robot left checked after every trial.

A trial starts on a fresh ``RATHAUS_HOME`` with the sample applications in the Maildir inbox (as the demo puts
them there). Each run is ``rathaus run`` in a process group of its own; a kill is SIGKILL to that whole group,
either after a random delay or from inside at a chosen point of the work item library
(``RATHAUS_WORKITEMS_CRASH_AT=<point>:<n>``: while the producer saves a mail's attachments, between entering a
case and writing its letter, before a release, ...). After the kills the trial runs the robot until every mail
is handled, then checks:

- each complete application (and the one with a missing enclosure, which is entered and asked for it) is in
  the sandbox UVG-Fachverfahren exactly once, and nothing else is;
- each mail is in exactly one folder of the Maildir, the one it belongs in;
- every letter in the outbox (``Gesendet``) answers a mail that gets one, is of the right kind, goes to the
  applicant and names the Aktenzeichen the Fachverfahren gave that applicant; only a case that was in flight
  (reserved) at a kill may have its letter twice;
- every item ends done or with the clerk, none as ``KEIN_ANHANG`` when its mail carried the form;
- a run that ends with exit code 0 leaves no case reserved, and no staging folder of the queue is left.

Processes of a trial still alive after a kill (orphans: they carry the trial's ``RATHAUS_HOME``) are counted
and ended by their pid. Importable without pytest: ``benchmarks/crashtest.py`` runs 100+ kills,
``tests/integration/test_crash_injection.py`` a short version.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROBOT = "giessen/unterhaltsvorschuss"
CITY, PROCESS = ROBOT.split("/")
#: the Maildir of the robot's mailbox below RATHAUS_HOME (``postfach.url`` in its config.yaml)
MAILDIR = Path("giessen/uvg")
#: folders of the mailbox a received mail can be in (the outbox ``Gesendet`` holds the letters)
FOLDERS = {"INBOX": "", "Erledigt": ".Erledigt", "Pruefung": ".Pruefung"}
OUTBOX = ".Gesendet"
#: crash points of the work item library (see rathaus.workitems.settings.Settings, ``crash_at``)
POINTS = ("create.staged", "create.committed", "save_payload", "add_file", "release")
RUN_TIMEOUT_S = 420.0


def short_home(prefix: str = "/tmp/ck") -> Path:
    """A new, short ``RATHAUS_HOME`` (``/tmp/ck<n>``). Short, because the trial's temporary folder lives in it
    (``<home>/tmp``, the run's own below it) and Chromium's ``SingletonSocket`` there must fit the 107 bytes of a
    Unix socket path."""
    for number in range(1, 100_000):
        path = Path(f"{prefix}{number}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise RuntimeError(f"Kein freier Ordner {prefix}<n>")


@dataclass(frozen=True)
class Sample:
    """One sample mail and what must become of it."""

    key: str
    message_id: str
    address: str
    #: ``eingangsbestaetigung``, ``nachforderung`` or ``None`` (no letter)
    letter: str | None
    #: entered in the Fachverfahren (complete, or only an enclosure missing)
    entered: bool
    folder: str
    #: the mail carries a PDF form (so ``KEIN_ANHANG`` would be wrong)
    has_form: bool


def _header(value: object) -> str:
    return "".join(str(value or "").split())


def describe(paths: Iterable[Path]) -> list[Sample]:
    """The samples of ``processes/unterhaltsvorschuss/samples/generate.py`` (``NN-<key>.eml``)."""
    result = []
    for path in paths:
        mail = email.message_from_bytes(Path(path).read_bytes(), policy=email.policy.default)
        key = Path(path).stem.split("-", 1)[1]
        good = key.startswith("gut-")
        letter = "eingangsbestaetigung" if good else "nachforderung" if key == "nachforderung" else None
        forms = [p for p in mail.iter_attachments() if p.get_filename() and p.get_filename().startswith("Antrag_")]
        result.append(Sample(key, _header(mail["Message-ID"]), parseaddr(str(mail["From"]))[1], letter,
                             good or key == "nachforderung", "Erledigt" if good else "Pruefung", bool(forms)))
    return result


@dataclass
class Kill:
    """How a run is to be killed: after ``delay`` seconds, or at the ``count``-th ``point``."""

    delay: float | None = None
    point: str | None = None
    count: int = 1

    def __str__(self) -> str:
        return f"nach {self.delay:.1f} s" if self.delay is not None else f"bei {self.point}:{self.count}"


@dataclass
class RunResult:
    returncode: int
    killed: bool
    seconds: float
    orphans: int
    output: str


@dataclass
class TrialReport:
    number: int
    kills: list[str] = field(default_factory=list)
    runs: int = 0
    seconds: float = 0.0
    orphans: int = 0
    violations: list[str] = field(default_factory=list)
    #: cases that got their letter more than once (allowed for a case in flight at a kill)
    double_letters: int = 0
    #: files and folders left in the trial's temporary folder after its last run
    leftover_temp: int = 0
    #: runs that were not killed and still ended with an exit code other than 0
    failed_runs: int = 0
    #: program names of the orphans
    orphan_names: Counter[str] = field(default_factory=Counter)


class Trial:
    """One fresh ``RATHAUS_HOME`` with the sample mails, run and killed, then checked."""

    def __init__(self, home: Path, mails: list[Path], samples: list[Sample], number: int = 1,
                 log: Callable[[str], None] = print) -> None:
        from rathaus_sandbox.samples import deliver

        self.home = home
        self.samples = samples
        self.log = log
        self.report = TrialReport(number)
        #: how often each Message-ID was reserved by a run that was killed (by that run, not an earlier one)
        self.in_flight: Counter[str] = Counter()
        (home / "tmp").mkdir(parents=True)
        deliver(mails, home / MAILDIR)

    # -- running -------------------------------------------------------------------------------------

    def run(self, kill: Kill | None = None) -> RunResult:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RATHAUS_", "RPA_"))}
        env.update({"RATHAUS_HOME": str(self.home), "TMPDIR": str(self.home / "tmp"), "PYTHONUNBUFFERED": "1"})
        if kill is not None and kill.point:
            env["RATHAUS_WORKITEMS_CRASH_AT"] = f"{kill.point}:{kill.count}"
        command = [str(Path(sys.executable).parent / "rathaus"), "run", ROBOT, "--output", str(self.home / "output")]
        log_file = self.home / f"lauf-{self.report.runs + 1}.log"
        held_before = set(self.reservations())
        started = time.monotonic()
        with log_file.open("wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
            deadline = started + (kill.delay if kill is not None and kill.delay is not None else RUN_TIMEOUT_S)
            killed = False
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                if kill is None or kill.delay is None:
                    self.report.violations.append(f"Lauf {self.report.runs + 1} hängt (> {RUN_TIMEOUT_S:.0f} s)")
                _kill_group(process.pid)
                process.wait()
                killed = True
        seconds = time.monotonic() - started
        if process.returncode == -signal.SIGKILL:
            killed = True  # also by the crash point inside: it kills the whole group
            _kill_group(process.pid)  # whatever of the group the point's kill did not reach
        orphans = self._end_orphans()
        self.report.runs += 1
        self.report.seconds += seconds
        self.report.orphans += orphans
        output = log_file.read_text(encoding="utf-8", errors="replace")
        result = RunResult(process.returncode, killed, seconds, orphans, output)
        if killed:
            self.report.kills.append(str(kill) if kill else "Zeitüberschreitung")
            self.in_flight.update(m for m, runner in self.reservations() if (m, runner) not in held_before)
        elif process.returncode == 0 and self.reservations():
            self.report.violations.append(f"Lauf {self.report.runs} meldet Erfolg, aber "
                                          f"{len(self.reservations())} Fall/Fälle sind noch reserviert")
        elif process.returncode != 0:
            self.report.failed_runs += 1
            causes = [line.strip() for line in output.splitlines() if "Ursache" in line or "Fehlgeschlagen:" in line]
            self.log(f"  Lauf {self.report.runs} endet mit {process.returncode}: {' | '.join(causes)[:300]}")
        return result

    def _end_orphans(self, grace_s: float = 3.0) -> int:
        """End the processes of this trial still alive ``grace_s`` after the kill of their group (helpers such as
        Chromium's crash handler, outside the group, end by themselves in that time); return how many."""
        marker = f"RATHAUS_HOME={self.home}".encode()
        deadline = time.monotonic() + grace_s
        while True:
            alive = [pid for pid in _pids_with_environ(marker) if pid != os.getpid()]
            if not alive or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.report.orphan_names.update(_program(pid) for pid in alive)
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(alive)

    # -- reading what the robot left ------------------------------------------------------------------

    def _database(self, name: str) -> Path | None:
        found = sorted(self.home.glob(f"{CITY}/**/{name}"))
        return found[0] if found else None

    def items(self) -> list[tuple[str, str, str | None, str | None]]:
        """``(message_id, state, code, runner)`` of every item of the robot's queue."""
        from rathaus.workitems import open_queue

        database = self._database("workitems.sqlite")
        if database is None:
            return []
        queue = open_queue(database)
        return [(str(i.payload.get("message_id")) if isinstance(i.payload, dict) else "", i.status.value, i.code,
                 i.runner) for i in queue.list_items(ROBOT)]

    def reservations(self) -> list[tuple[str, str | None]]:
        """``(message_id, runner)`` of the items someone holds."""
        return [(message_id, runner) for message_id, state, _code, runner in self.items() if state == "in_progress"]

    def folders(self) -> dict[str, list[str]]:
        """Message-IDs per folder of the mailbox (received mail only)."""
        result: dict[str, list[str]] = {}
        for name, sub in FOLDERS.items():
            result[name] = [_header(mail["Message-ID"]) for mail in _maildir(self.home / MAILDIR / sub)]
        return result

    def letters(self) -> list[dict[str, str]]:
        return [{"in_reply_to": _header(m["In-Reply-To"]), "to": parseaddr(str(m["To"]))[1],
                 "subject": str(m["Subject"] or ""),
                 "attachments": ",".join(p.get_filename() or "" for p in m.iter_attachments())}
                for m in _maildir(self.home / MAILDIR / OUTBOX)]

    def cases(self) -> list[tuple[str, str]]:
        """``(applicant's e-mail, Aktenzeichen)`` of every case in the Fachverfahren."""
        database = self._database("fachverfahren.sqlite")
        if database is None:
            return []
        with sqlite3.connect(database, timeout=30) as conn:
            rows = conn.execute("SELECT antragsteller_email, aktenzeichen FROM faelle ORDER BY id").fetchall()
        conn.close()
        return [(str(address), str(number)) for address, number in rows]

    def finished(self) -> bool:
        items = self.items()
        states = Counter(state for _m, state, _c, _d in items)
        return (len(items) == len(self.samples) and not self.folders()["INBOX"]
                and not (states["new"] or states["in_progress"] or states["failed_application"]))

    # -- checking ------------------------------------------------------------------------------------

    def check(self) -> list[str]:
        """Every rule of the module documentation; returns the violations (German, no personal data)."""
        problems: list[str] = []
        by_address = {s.address: s for s in self.samples}
        by_id = {s.message_id: s for s in self.samples}
        cases = self.cases()
        entered = Counter(address for address, _number in cases)
        numbers: dict[str, set[str]] = {}
        for address, number in cases:
            numbers.setdefault(address, set()).add(number)
        for sample in self.samples:
            expected = 1 if sample.entered else 0
            if entered[sample.address] != expected:
                problems.append(f"{sample.key}: {entered[sample.address]}-mal im Fachverfahren, erwartet {expected}")
        for address in entered:
            if address not in by_address:
                problems.append("ein Fall im Fachverfahren gehört zu keinem Antrag")
        folders = self.folders()
        seen = Counter(message_id for ids in folders.values() for message_id in ids)
        for sample in self.samples:
            where = [name for name, ids in folders.items() if sample.message_id in ids]
            if seen[sample.message_id] != 1:
                problems.append(f"{sample.key}: Mail {seen[sample.message_id]}-mal im Postfach ({', '.join(where)})")
            elif where != [sample.folder]:
                problems.append(f"{sample.key}: Mail in {where[0]}, erwartet {sample.folder}")
        letters = Counter()
        for letter in self.letters():
            sample = by_id.get(letter["in_reply_to"])
            if sample is None or sample.letter is None:
                problems.append(f"Brief ohne passenden Antrag: {letter['subject'][:60]}")
                continue
            letters[sample.key] += 1
            kind = "nachforderung" if "nachreichen" in letter["subject"] else "eingangsbestaetigung"
            number = re.search(r"UVG-\d{4}-\d{6}", letter["subject"])
            if kind != sample.letter:
                problems.append(f"{sample.key}: falscher Brief ({kind})")
            if letter["to"] != sample.address:
                problems.append(f"{sample.key}: Brief an eine andere Adresse")
            if number is None or number.group(0) not in numbers.get(sample.address, set()):
                problems.append(f"{sample.key}: Brief nennt ein fremdes Aktenzeichen")
            elif not letter["attachments"].startswith(number.group(0)):
                problems.append(f"{sample.key}: Anlage des Briefs passt nicht zum Aktenzeichen")
        for sample in self.samples:
            count = letters[sample.key]
            if sample.letter is not None and count == 0:
                problems.append(f"{sample.key}: kein Brief")
            if count > 1:
                self.report.double_letters += 1
                if count > 1 + self.in_flight[sample.message_id]:
                    problems.append(f"{sample.key}: {count} Briefe, war aber nur {self.in_flight[sample.message_id]}"
                                    "-mal in Arbeit, als ein Lauf abbrach")
        items = Counter(message_id for message_id, _s, _c, _d in self.items())
        for message_id, state, code, _data in self.items():
            sample = by_id.get(message_id)
            if sample is None:
                problems.append("ein Arbeitselement gehört zu keiner Mail")
                continue
            wanted = "done" if sample.folder == "Erledigt" else "failed_business"
            if state != wanted:
                problems.append(f"{sample.key}: Arbeitselement {state} ({code}), erwartet {wanted}")
            if sample.has_form and code == "KEIN_ANHANG":
                problems.append(f"{sample.key}: KEIN_ANHANG, obwohl die Mail das Formular trägt")
        for sample in self.samples:
            if items[sample.message_id] != 1:
                problems.append(f"{sample.key}: {items[sample.message_id]} Arbeitselemente")
        staging = [p for p in self.home.glob(f"{CITY}/**/*-files/.staging/*")]
        if staging:
            problems.append(f"{len(staging)} Staging-Ordner der Warteschlange übrig")
        return problems

    def finish(self, max_runs: int = 6) -> TrialReport:
        """Run until every mail is handled (at most ``max_runs`` more runs), then check."""
        runs = 0
        while not self.finished():
            if runs == max_runs:
                self.report.violations.append(f"nach {max_runs} Läufen ohne Abbruch noch nicht fertig")
                break
            self.run()
            runs += 1
        self.report.violations += self.check()
        tmp = self.home / "tmp"
        self.report.leftover_temp = sum(1 for _ in tmp.iterdir()) if tmp.is_dir() else 0
        return self.report


def _maildir(folder: Path) -> list[email.message.EmailMessage]:
    mails = []
    for sub in ("new", "cur"):
        for path in sorted((folder / sub).glob("*")) if (folder / sub).is_dir() else []:
            mails.append(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
    return mails


def _program(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _pids_with_environ(marker: bytes) -> list[int]:
    """Live processes (not zombies) whose environment holds ``marker`` (``NAME=value``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X") and marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def sample_mails(folder: Path, good: int = 14, keys: Iterable[str] | None = None) -> list[Path]:
    """The process's sample mails (``good`` complete ones and one of each bad kind), optionally only ``keys``."""
    sys.path.insert(0, str(ROOT / "processes"))
    from unterhaltsvorschuss.samples.generate import generate

    paths = generate(folder, good=good)
    wanted = set(keys or ())
    return [p for p in paths if not wanted or p.stem.split("-", 1)[1] in wanted]


# -- the campaign -----------------------------------------------------------------------------------


def random_kill(rng: random.Random, trial: Trial, seconds_per_case: float, startup_s: float) -> Kill:
    """Half of the kills after a random delay over the rest of the run, half at a random crash point."""
    finished = sum(1 for _m, state, _c, _r in trial.items() if state in ("done", "failed_business"))
    open_cases = max(1, len(trial.samples) - finished)
    inbox = max(1, len(trial.folders()["INBOX"]))
    if rng.random() < 0.5:
        return Kill(delay=rng.uniform(0.5, startup_s + seconds_per_case * open_cases))
    point = rng.choice(POINTS)
    if point.startswith("create."):
        return Kill(point=point, count=rng.randint(1, inbox))
    per_case = 3 if point == "save_payload" else 1
    return Kill(point=point, count=rng.randint(1, per_case * open_cases))


@dataclass
class Campaign:
    trials: list[TrialReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def kills(self) -> int:
        return sum(len(t.kills) for t in self.trials)

    @property
    def violations(self) -> list[str]:
        return [f"Versuch {t.number}: {v}" for t in self.trials for v in t.violations]

    def figures(self) -> list[str]:
        kinds = Counter(k.split(":")[0] if k.startswith("bei") else "nach Zeit" for t in self.trials for k in t.kills)
        runs = sum(t.runs for t in self.trials)
        orphans = sum((t.orphan_names for t in self.trials), Counter())
        return [
            f"Versuche: {len(self.trials)}",
            f"Abbrüche (SIGKILL der Prozessgruppe): {self.kills} "
            f"({', '.join(f'{kind}: {n}' for kind, n in sorted(kinds.items()))})",
            f"Läufe insgesamt: {runs}",
            f"Verstöße: {len(self.violations)}",
            f"Fälle mit doppeltem Brief (in Arbeit beim Abbruch): {sum(t.double_letters for t in self.trials)}",
            f"Verwaiste Prozesse nach einem Abbruch: {sum(t.orphans for t in self.trials)}"
            + (f" ({', '.join(f'{n}: {c}' for n, c in orphans.most_common())})" if orphans else ""),
            f"Versuche mit Resten im temporären Ordner: {sum(1 for t in self.trials if t.leftover_temp)}",
            f"Zeit: {self.seconds / 60:.1f} min",
        ]


def campaign(workdir: Path, kills: int = 100, good: int = 14, seed: int = 2026, max_kills_per_trial: int = 8,
             keep: bool = False, log: Callable[[str], None] = print) -> Campaign:
    """Trials until at least ``kills`` kills happened; each trial half of ``max_kills_per_trial`` up to all of it
    kill attempts (fewer when the robot finishes before)."""
    rng = random.Random(seed)
    mails = sample_mails(workdir / "beispiele", good=good)
    samples = describe(mails)
    result = Campaign()
    started = time.monotonic()
    seconds_per_case, startup_s = 3.5, 8.0
    while result.kills < kills:
        number = len(result.trials) + 1
        trial = Trial(short_home(), mails, samples, number, log)
        for _ in range(rng.randint(max(1, max_kills_per_trial // 2), max_kills_per_trial)):
            trial.run(random_kill(rng, trial, seconds_per_case, startup_s))
            if trial.finished():
                break
        report = trial.finish()
        result.trials.append(report)
        result.seconds = time.monotonic() - started
        log(f"Versuch {number}: {len(report.kills)} Abbrüche ({'; '.join(report.kills) or '-'}), {report.runs} Läufe, "
            f"{report.seconds:.0f} s, Verstöße: {len(report.violations)}"
            + "".join(f"\n    - {v}" for v in report.violations))
        if keep or report.violations:
            shutil.copytree(trial.home, workdir / f"versuch-{number}", symlinks=True)
        shutil.rmtree(trial.home, ignore_errors=True)
    return result


#: the short version: a few mails, a kill at each of these points, then runs until done
QUICK_KEYS = ("gut-1", "ohne-anhang")
QUICK_KILLS = (Kill(point="create.committed", count=2), Kill(point="save_payload", count=1),
               Kill(point="release", count=1))


def quick(workdir: Path, log: Callable[[str], None] = print) -> Campaign:
    """One trial on two mails with a kill while the producer saves, between entry and letter, before release."""
    mails = sample_mails(workdir / "beispiele", good=2, keys=QUICK_KEYS)
    result = Campaign()
    started = time.monotonic()
    trial = Trial(short_home(), mails, describe(mails), 1, log)
    try:
        for kill in QUICK_KILLS:
            trial.run(kill)
        result.trials.append(trial.finish())
    finally:
        shutil.copytree(trial.home, workdir / "versuch-1", symlinks=True)
        shutil.rmtree(trial.home, ignore_errors=True)
    result.seconds = time.monotonic() - started
    return result
