"""No hostile input blocks a command: 200+ broken or malicious files against pdf, mail and invoice commands.

Every file goes through ``rathaus pdf fields``, ``pdf text``, ``mail show``, ``invoice read`` and ``invoice check``.
Each answer is either a regular result (exit 0, or 1 for a rejected invoice) or exit 2 with exactly one line on
stderr (``rathaus: …``, German, naming the file), never a traceback, never longer than 30 s; what a command
must refuse (bombs, deep nesting, huge numbers, entity expansion, …) it refuses with exit 2. The commands run
in-process in one worker process per command (a process per file would take minutes); a few run as real
processes too. Memory: the workers' peak is measured, and the 1 GB PDF bomb runs under an address-space limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.hostile_corpus import KOSIT_RELATIVE, build

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("keywords", "sandbox", "processes"))}
ENV.pop("RATHAUS_KOSIT_CONFIG", None)

COMMANDS = {
    "pdf fields": ["pdf", "fields"],
    "pdf text": ["pdf", "text"],
    "mail show": ["mail", "show"],
    "invoice read": ["invoice", "read"],
    "invoice check": ["invoice", "check", "--kosit", KOSIT_RELATIVE],
}

#: Runs every file through one command inside one process and prints one JSON line per file.
WORKER = r"""
import contextlib, io, json, signal, sys, time, traceback
from rathaus.cli import main

class Timeout(BaseException):
    pass

def alarm(*_):
    raise Timeout()

signal.signal(signal.SIGALRM, alarm)
command, files = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for file in files:
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    signal.alarm(30)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([*command[:2], file, *command[2:]])
        crash = None
    except Timeout:
        code, crash = None, "timeout"
    except BaseException:
        code, crash = None, traceback.format_exc(limit=3)
    finally:
        signal.alarm(0)
    print(json.dumps({"file": file, "code": code, "stderr": err.getvalue(), "crash": crash,
                      "seconds": time.perf_counter() - started}), flush=True)
# VmHWM is this process's own peak; ru_maxrss would also count the parent's size at fork (kept across exec)
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"peak_mb": peak_kb // 1024}))
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def results(corpus):
    """command -> (file name -> result), plus each worker's peak memory; two workers at a time."""
    files = json.dumps([str(entry.path) for entry in corpus])
    running = {}
    answers: dict[str, dict] = {}
    names = list(COMMANDS)
    while names or running:
        while names and len(running) < 2:
            name = names.pop(0)
            running[name] = subprocess.Popen(
                [sys.executable, "-c", WORKER, json.dumps(COMMANDS[name]), files], cwd=ROOT, env=ENV,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
        name, process = next(iter(running.items()))
        stdout, stderr = process.communicate(timeout=900)
        del running[name]
        lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        assert lines and "peak_mb" in lines[-1], f"{name}: worker died: {stderr[-2000:]}"
        answers[name] = {"peak_mb": lines[-1]["peak_mb"], "files": {Path(r["file"]).name: r for r in lines[:-1]}}
    return answers


def test_the_corpus_has_200_hostile_inputs_of_every_kind(corpus):
    assert len(corpus) >= 200
    kinds = {entry.kind for entry in corpus}
    assert kinds >= {"truncated", "bit-flipped", "encrypted", "decompression bomb", "deep nesting", "huge number",
                     "entity expansion"}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_answer_is_a_result_or_one_german_line_with_exit_2(results, corpus, command):
    answers = results[command]["files"]
    assert len(answers) == len(corpus)
    problems = []
    for entry in corpus:
        answer = answers[entry.path.name]
        if answer["crash"]:
            problems.append(f"{entry.path.name}: {answer['crash']}")
            continue
        allowed = {0, 1, 2} if command == "invoice check" else {0, 2}
        if answer["code"] not in allowed:
            problems.append(f"{entry.path.name}: exit {answer['code']}")
        if answer["code"] == 2:
            lines = answer["stderr"].splitlines()
            if len(lines) != 1 or not lines[0].startswith("rathaus: ") or "Traceback" in answer["stderr"]:
                problems.append(f"{entry.path.name}: stderr {answer['stderr'][:300]!r}")
            elif entry.path.name not in lines[0] and entry.path.stem not in lines[0]:
                problems.append(f"{entry.path.name}: the message does not name the file: {lines[0][:200]}")
        elif answer["stderr"]:
            problems.append(f"{entry.path.name}: exit {answer['code']} with stderr {answer['stderr'][:200]!r}")
        if command in entry.refused_by and answer["code"] != 2:
            problems.append(f"{entry.path.name} ({entry.kind}): exit {answer['code']}, expected 2")
        if answer["seconds"] > 30:
            problems.append(f"{entry.path.name}: {answer['seconds']:.1f} s")
    assert not problems, "\n".join(problems[:40])


def test_the_workers_memory_stays_bounded(results):
    peaks = {command: answer["peak_mb"] for command, answer in results.items()}
    # the official rules' stylesheets take about 250 MB once; nothing may inflate a bomb into memory
    assert max(peaks.values()) < 900, peaks
    assert peaks["pdf text"] < 400, peaks


def test_the_1_gb_pdf_bomb_is_refused_under_a_memory_limit(corpus):
    (bomb,) = [entry.path for entry in corpus if entry.path.name == "bomb-1g.pdf"]
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (768 << 20, 768 << 20)); "
    for command, expected in (("text", 2), ("fields", 0)):
        process = subprocess.run(
            [sys.executable, "-c", limit + "import sys; from rathaus.cli import main; sys.exit(main(sys.argv[1:]))",
             "pdf", command, str(bomb)], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60, check=False,
        )
        assert process.returncode == expected, process.stderr[-500:]
        if command == "text":  # the page text would inflate the bomb: refused
            assert process.stderr.count("\n") == 1 and "entpackt größer als 75 MB" in process.stderr
        else:  # the form fields never touch page content: an empty form, within the limit
            assert process.stdout == "" and process.stderr == ""


@pytest.mark.parametrize(
    ("command", "name"),
    [("mail show", "deep-mail-rfc822-5000.eml"), ("invoice read", "huge-number-1000-ubl.xml")],
)
def test_a_real_process_answers_with_one_line_and_exit_2(corpus, command, name):
    (path,) = [entry.path for entry in corpus if entry.path.name == name]
    process = subprocess.run(
        [sys.executable, "-m", "rathaus.cli", *COMMANDS[command][:2], str(path), *COMMANDS[command][2:]],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60, check=False,
    )
    assert process.returncode == 2
    assert process.stderr.count("\n") == 1 and process.stderr.startswith("rathaus: ") and name in process.stderr
