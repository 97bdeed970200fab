"""Keywords that every process robot needs: its configuration, its secrets, failure handling."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.api.types import Secret
from robot.utils import DotDict
from robotlibcore import DynamicCore

from rathaus.core.config import ConfigError, load_robot_config, override_files
from rathaus.core.project import Project
from rathaus.core.runner import append_run_summary
from rathaus.errors import ApplicationError, BusinessError, RathausError, recent_error
from rathaus.process.failures import DEFAULT_LIMIT as DEFAULT_FAILURE_LIMIT
from rathaus.process.failures import FailureLedger
from rathaus.translation import load_translation

__all__ = ["ConfigError", "Process"]


def _ledger_path(ledger: Path | str) -> Path:
    """A ledger file; a relative path lies below ``RATHAUS_HOME`` (the project's ``var/`` without it)."""
    path = Path(ledger)
    if path.is_absolute():
        return path
    home = os.environ.get("RATHAUS_HOME")
    return (Path(home) if home else Project.locate().home) / path


def _resolve_local_urls(value: Any, home: Path) -> Any:
    """Turn ``maildir:<relative>`` into ``maildir:<RATHAUS_HOME>/<relative>`` anywhere in the config."""
    if isinstance(value, dict):
        return {key: _resolve_local_urls(item, home) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_local_urls(item, home) for item in value]
    if isinstance(value, str) and value.startswith("maildir:"):
        target = Path(value.removeprefix("maildir:"))
        return f"maildir:{target if target.is_absolute() else home / target}"
    return value


class _Keywords:
    @keyword
    def load_robot_configuration(self, config: Path) -> DotDict:
        """Loads a city robot's ``config.yaml``, validates it and returns it with the city's master data.

        Files named in the environment variable ``RATHAUS_CONFIG_OVERRIDE`` (separated by ``:``) are
        merged over the file first; ``rathaus run --config`` uses that. The result is validated against
        the process's ``schema.yaml``, defaults are filled in, ``maildir:`` paths are made absolute under
        ``RATHAUS_HOME``, and two keys are added: ``stadt_daten`` (``resources/cities/<stadt>/stadt.yaml``
        and the topic files beside it) and ``prozess`` (the process's ``process.yaml``).

        | =Arguments= | =Description= |
        | ``config`` | Path of the robot's ``config.yaml``. |

        A missing key, an unknown key or a wrong value fails with a message that names the file, the
        key and the allowed values. A target system configured as ``url: sandbox`` is started by
        ``rathaus run`` only; a robot started another way (rcc, ``robot``) fails here with a hint to set
        the system's real address, before any case is touched.

        Example:
        | ${config}=    Load Robot Configuration    ${CURDIR}/config.yaml
        | Log    ${config.stadt_daten.name}

        See also `Get Secret From Environment`.
        """
        project = Project.locate(Path(config).parent)
        loaded = load_robot_config(Path(config), override_files(), project)
        for section in loaded["prozess"].get("sandboxes") or {}:
            if (loaded.get(section) or {}).get("url") == "sandbox":
                raise ConfigError(
                    f"{config}: Schlüssel '{section}.url' ist 'sandbox'; die Sandbox startet nur `rathaus run`. "
                    f"Bitte die Adresse des Systems eintragen, z. B. url: 'stadt:<system>' aus den Stammdaten "
                    f"(Umgebungsvariable RATHAUS_CONFIG_OVERRIDE mit einer Datei, die den Schlüssel überschreibt)."
                )
        return DotDict(_resolve_local_urls(loaded, project.home))

    @keyword
    def get_secret_from_environment(self, variable: str) -> Secret:
        """Returns the secret held by the environment variable ``variable`` as a Robot ``Secret``.

        Configurations never hold passwords, only the names of the variables that do, so that a city's
        secrets stay in its runner's vault. The returned ``Secret`` is not shown in logs.

        | =Arguments= | =Description= |
        | ``variable`` | Name of the environment variable, e.g. ``GIESSEN_UVG_FACHVERFAHREN_PASSWORT``. |

        Fails with an application error naming the variable (never its value) when it is not set.

        Example:
        | ${passwort}=    Get Secret From Environment    ${config.fachverfahren.passwort_variable}

        See also `Load Robot Configuration`.
        """
        value = os.environ.get(variable)
        if not value:
            raise ApplicationError(
                f"Die Umgebungsvariable '{variable}' mit dem Passwort ist nicht gesetzt. "
                "Bitte im Runner hinterlegen und den Lauf erneut starten.",
                code="SECRET_MISSING",
            )
        return Secret(value)

    @keyword
    def classify_failure(self, message: str) -> DotDict:
        """Tells whether a failure is a business or an application error, with its stable code.

        Robot ``EXCEPT`` branches only see a failure's message. This keyword looks the message up among
        the errors that rathaus keywords raised recently and returns ``kind`` (``BUSINESS`` or
        ``APPLICATION``) and ``code``. Failures that did not come from a rathaus keyword count as
        ``APPLICATION`` with code ``UNEXPECTED``: retrying after the cause is fixed is the safe default.

        | =Arguments= | =Description= |
        | ``message`` | The failure message, as captured by ``EXCEPT AS ${error}``. |

        Example:
        | TRY
        |     Process Application
        | EXCEPT    AS    ${error}
        |     ${failure}=    Classify Failure    ${error}
        |     Release Input Work Item    FAILED    ${failure.kind}    ${failure.code}    ${error}
        | END

        See also `Raise Business Error` and `Raise Application Error`.
        """
        error = recent_error(message)
        if isinstance(error, RathausError):
            return DotDict(kind=error.kind, code=error.code)
        return DotDict(kind="APPLICATION", code="UNEXPECTED")

    @keyword
    def raise_business_error(self, message: str, code: str = "BUSINESS_ERROR") -> None:
        """Fails the current case with a business error: the case's data needs a clerk.

        | =Arguments= | =Description= |
        | ``message`` | German message for the clerk: name the case, say what is wrong and what to do. |
        | ``code`` | Stable code for reports, e.g. ``NACHFORDERUNG``. |

        Example:
        | Raise Business Error    Antrag ${case}: Das Fachverfahren lehnt den Antrag ab.    FACHVERFAHREN_ABGELEHNT

        See also `Classify Failure`.
        """
        raise BusinessError(message, code=code)

    @keyword
    def raise_application_error(self, message: str, code: str = "APPLICATION_ERROR") -> None:
        """Fails the current case with an application error: a system failed, run again later.

        | =Arguments= | =Description= |
        | ``message`` | German message: name the system and what the RPA team should check. |
        | ``code`` | Stable code for reports, e.g. ``ANMELDUNG_FEHLGESCHLAGEN``. |

        Example:
        | Raise Application Error    Anmeldung am Fachverfahren fehlgeschlagen.    ANMELDUNG_FEHLGESCHLAGEN

        See also `Classify Failure`.
        """
        raise ApplicationError(message, code=code)

    @keyword
    def record_unexpected_failure(
        self, case: str, message: str, ledger: Path, limit: int = DEFAULT_FAILURE_LIMIT
    ) -> DotDict:
        """Counts an unexpected failure of one case; tells when it failed so ``limit`` times in a row.

        A case that fails with an unexpected error (``Classify Failure`` gives code ``UNEXPECTED``) stays in
        the inbox and is tried again next run. Once it has failed that way ``limit`` times in a row, hand
        it to a clerk (release its work item as a business error with ``note`` as message, so that its
        mail goes to the review folder) instead of trying again forever: the other cases keep flowing.

        | =Arguments= | =Description= |
        | ``case`` | The case's stable key, e.g. the work item key ``<Message-ID>#rechnung.xml``. |
        | ``message`` | The failure message. |
        | ``ledger`` | JSON file that keeps the counts across runs; a relative path is below ``RATHAUS_HOME``. |
        | ``limit`` | Failures in a row that hand the case to a clerk (default 3). |

        Returns ``count``, ``limit``, ``reached`` (``True`` when ``count`` reaches ``limit``) and ``note``,
        the German message for the clerk. Call `Clear Unexpected Failures` when the case ends any other way.

        Example:
        | ${failure}=    Classify Failure    ${error}
        | IF    $failure.code == 'UNEXPECTED'
        |     ${count}=    Record Unexpected Failure    ${key}    ${error}    ${CONFIG.stadt}/prozess/fehler.json
        |     IF    ${count.reached}
        |         Release Input Work Item    FAILED    BUSINESS    WIEDERHOLT_UNERWARTET    ${count.note}
        |     END
        | END

        See also `Classify Failure`.
        """
        counted = FailureLedger(_ledger_path(ledger)).record(case, message, limit)
        if counted.reached:
            logger.warn(counted.note)
        return DotDict(count=counted.count, limit=counted.limit, reached=counted.reached, note=counted.note)

    @keyword
    def clear_unexpected_failures(self, case: str, ledger: Path) -> int:
        """Ends the row of unexpected failures of a case that was now processed some other way; returns the old count.

        | =Arguments= | =Description= |
        | ``case`` | The case's key, as given to `Record Unexpected Failure`. |
        | ``ledger`` | The same JSON file as there. |

        Example:
        | Clear Unexpected Failures    ${key}    ${CONFIG.stadt}/prozess/fehler.json
        """
        return FailureLedger(_ledger_path(ledger)).clear(case)

    @keyword
    def append_to_run_summary(self, lines: list[str] | str) -> Path | None:
        """Adds German lines to the summary that ``rathaus run`` prints after the run, and logs them.

        The lines go to ``zusammenfassung.txt`` in the run's folder (``RATHAUS_RUN_DIR``, set by
        ``rathaus run``). Outside ``rathaus run`` they are only logged. Returns the file, or ``None``.
        Lines are shown to clerks and RPA teams: counts and case references only, never personal data.

        | =Arguments= | =Description= |
        | ``lines`` | One line or a list of lines, e.g. ``Erfasst je Buchungskreis: 1000 = 3``. |

        Example:
        | Append To Run Summary    Veröffentlicht: nutzung-2026.csv, nutzung-2026.json

        See also `Load Robot Configuration`.
        """
        items = [lines] if isinstance(lines, str) else list(lines)
        for line in items:
            logger.info(line)
        return append_run_summary(items)


    @keyword
    def report_file_outcome(self, file: str | Path, state: str, code: str | None = None,
                            message: str | None = None) -> Path | None:
        """Says how one input file ended, for the run's result, in a step that reads files instead of work items.

        A robot that reads its cases as files from a folder (the control room puts uploaded files there) tells
        with this keyword what became of each file, so that ``rathaus run --result`` and the control room show
        each uploaded file's case as it really ended, not as the run ended. The record goes to ``dateien.jsonl``
        in the run's folder (``RATHAUS_RUN_DIR``); outside ``rathaus run`` nothing is recorded. Returns that file
        or ``None``. The last report of a file counts.

        | =Arguments= | =Description= |
        | ``file`` | The file (its name counts), e.g. ``${export.datei}``. |
        | ``state`` | ``done``, ``failed_business`` (a clerk must act) or ``failed_application`` (try again). |
        | ``code`` | Stable code, e.g. from `Classify Failure`. |
        | ``message`` | German message that names the file and says what to do; no personal data. |

        Example:
        | Report File Outcome    nutzung-2026-03.csv    failed_business    EXPORT_ZELLE    Die Zelle C4 ist keine Zahl.

        See also `Append To Run Summary`.
        """
        from rathaus.core.runner import record_file_outcome

        return record_file_outcome(Path(str(file)).name, state, code, message)


class Process(DynamicCore):
    """Keywords every process robot needs: configuration, secrets and failure handling.

    A city robot loads its ``config.yaml`` with `Load Robot Configuration`, takes passwords from its
    runner's environment with `Get Secret From Environment`, and sorts failures into business errors
    (hand the case to a clerk) and application errors (fix and retry) with `Classify Failure`.
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"

    def __init__(self, language: str = "en") -> None:
        """| =Arguments= | =Description= |
        | ``language`` | Keyword language: ``en`` (default) or ``de`` for German names and documentation. |
        """
        super().__init__(
            [_Keywords()], translation=load_translation(Path(__file__).parent, language, "rathaus.Process")
        )
