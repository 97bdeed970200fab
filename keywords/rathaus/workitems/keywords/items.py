"""Keywords that take input items, create output items and release inputs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from robot.api.deco import keyword

from rathaus.workitems.errors import EmptyQueue, WorkItemsFailedError, WorkItemUsageError
from rathaus.workitems.keywords.base import LibraryComponent, classify
from rathaus.workitems.model import Error, State, WorkItem

LOG = logging.getLogger("rathaus.workitems")


def _split_files(files: str | Path | list[str | Path] | None) -> list[str | Path]:
    if files is None:
        return []
    if isinstance(files, (str, Path)):
        return [part.strip() for part in str(files).split(",") if part.strip()]
    return list(files)


class ItemKeywords(LibraryComponent):
    """Get Input Work Item, Create Output Work Item, Save Work Item, Release Input Work Item, For Each."""

    @keyword
    def get_input_work_item(self) -> WorkItem:
        """Reserve the next input work item and make it the current item.

        The previous input item, if not released yet, is released as DONE first (as in
        rpaframework). Fails with ``EmptyQueue`` when no item is left.

        Example:
        | ${item}= | `Get Input Work Item` |
        | ${mail}= | `Get Work Item Variable` | message_id |

        Related: `For Each Input Work Item`, `Release Input Work Item`, `Get Current Work Item`.
        """
        if self.ctx.iterating:
            raise WorkItemUsageError(
                "'Get Input Work Item' ist innerhalb von 'For Each Input Work Item' nicht erlaubt."
            )
        return self.ctx.load_next_input()

    @keyword
    def create_output_work_item(
        self,
        variables: dict[str, Any] | None = None,
        files: str | list[str] | None = None,
        save: bool = False,
    ) -> WorkItem:
        """Create an output work item, optionally with variables and files, and make it current.

        Nothing reaches the output queue until `Save Work Item` (or ``save=True``). The first save creates
        the item with its variables and all files added so far at once or not at all: a consumer never sees
        it without its files, even when the robot dies while saving. The arguments are rpaframework's.

        With a variable ``work_item_key`` (the processes use the mail's Message-ID) creating is idempotent:
        the key is taken out of the variables, and an item with the same key in the same queue is kept
        instead of duplicated; only an item that failed with an APPLICATION error is set back to ``new``
        with the new variables and files so that it is retried. The returned item's ``created`` attribute is
        ``False`` when an existing item was kept. (rpaframework keeps ``work_item_key`` as an ordinary
        variable, so the same producer runs there.)

        | =Arguments= | =Description= |
        | ``variables`` | Dictionary of variables for the new item, optionally with ``work_item_key``. |
        | ``files`` | Paths of files to attach, a list or comma separated. |
        | ``save`` | Save the item at once. |

        Example:
        | &{fall}= | Create Dictionary | message_id=${mail.message_id} | work_item_key=${mail.message_id} |
        | `Create Output Work Item` | ${fall} | files=${pdf} | save=${True} |

        Related: `Save Work Item`, `Add Work Item File`, `Set Work Item Variables`.
        """
        parent = self.ctx.active_input
        if parent is not None and parent.state is not None:
            raise WorkItemUsageError(
                f"Eingabe-Arbeitselement {parent.id} ist schon freigegeben: erst den nächsten mit "
                "'Get Input Work Item' holen, dann Ausgabe-Arbeitselemente anlegen."
            )
        item = WorkItem(self.ctx.adapter, parent_id=parent.id if parent else None)
        if variables:
            item.payload = dict(variables)
        for path in _split_files(files):
            item.add_file(path)
        self.ctx.outputs.append(item)
        self.ctx.current = item
        if save:
            item.save()
        return item

    @keyword
    def save_work_item(self) -> None:
        """Save the current work item's variables and files; unsaved changes are lost at the end.

        Example:
        | `Set Work Item Variable` | aktenzeichen | ${az} |
        | `Save Work Item` |

        Related: `Create Output Work Item`, `Set Work Item Variables`.
        """
        self.ctx.current.save()

    @keyword
    def release_input_work_item(
        self,
        state: State | str,
        exception_type: Error | str | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """Release the current input work item as DONE or FAILED.

        A FAILED item carries an exception type: ``BUSINESS`` (the case's data is wrong, a clerk takes
        over, not retried) or ``APPLICATION`` (a system failed, the item is retried in the next run), a
        stable code and a message. After release no output item can be created for this input.

        | =Arguments= | =Description= |
        | ``state`` | ``DONE`` or ``FAILED``. |
        | ``exception_type`` | ``BUSINESS`` or ``APPLICATION``; needed when giving code or message. |
        | ``code`` | Stable error code, e.g. ``ANLAGE_FEHLT``. |
        | ``message`` | Text for the clerk. |

        Example:
        | TRY |
        | | Enter Application | ${fall} |
        | EXCEPT | AS | ${error} |
        | | `Release Input Work Item` | FAILED | BUSINESS | ANLAGE_FEHLT | ${error} |
        | END |

        Related: `For Each Input Work Item`, `Get Input Work Item`.
        """
        self.ctx.release(state, exception_type, code, message)

    @keyword
    def for_each_input_work_item(
        self,
        keyword_or_func: str | Callable[..., Any],
        *args: Any,
        items_limit: int = 0,
        return_results: bool = True,
        **kwargs: Any,
    ) -> list[Any] | None:
        """Run a keyword (or Python function) once for each input work item, releasing each item.

        An item whose keyword passes is released as DONE, unless the keyword released it itself. When
        the keyword fails, the item is released as FAILED: with BUSINESS if the error was a rathaus
        business error (e.g. a missing enclosure), else APPLICATION, with the error's code and message,
        and the loop goes on with the next item, so one broken case does not stop the rest. When an item
        failed with an APPLICATION error this way, the keyword fails after the last item, naming the items,
        so that an unattended run with a crashing case does not end green. (rpaframework stops at the first
        failure; a Robot timeout or fatal error stops here too.)

        | =Arguments= | =Description= |
        | ``keyword_or_func`` | Keyword name or Python callable, run with the current item set. |
        | ``*args`` | Arguments for it. |
        | ``**kwargs`` | Named arguments for it (as in rpaframework). |
        | ``items_limit`` | Handle at most this many items; 0 means all. |
        | ``return_results`` | Return the list of results (``None`` for failed items). |

        Example:
        | @{results}= | `For Each Input Work Item` | Handle Application | items_limit=50 |

        From Python: ``wi.for_each_input_work_item(handle)`` where ``handle`` reads
        ``wi.get_work_item_variables()``.

        Related: `Release Input Work Item`, `Get Input Work Item`.
        """
        if self.ctx.iterating:
            raise WorkItemUsageError("'For Each Input Work Item' lässt sich nicht verschachteln.")
        call = _caller(keyword_or_func, args, kwargs)
        results: list[Any] = []
        failed: list[str] = []
        count = 0
        self.ctx.iterating = True
        try:
            while not items_limit or count < items_limit:
                item = self._next_input()
                if item is None:
                    break
                count += 1
                result = self._run_one(item, call, failed)
                if return_results:
                    results.append(result)
        finally:
            self.ctx.iterating = False
        if failed:
            raise WorkItemsFailedError(
                f"{len(failed)} von {count} Arbeitselementen mit einem technischen Fehler abgebrochen und zum "
                f"erneuten Versuch freigegeben ({'; '.join(failed[:5])}{' …' if len(failed) > 5 else ''}). Die "
                "übrigen wurden bearbeitet. Bitte die Meldungen im Protokoll prüfen.")
        return results if return_results else None

    @keyword
    def get_current_work_item(self) -> WorkItem:
        """Return the current work item (the last input taken or output created).

        Example:
        | ${input}= | `Get Current Work Item` |
        | `Create Output Work Item` |
        | `Set Current Work Item` | ${input} |

        Related: `Set Current Work Item`, `Get Input Work Item`.
        """
        return self.ctx.current

    @keyword
    def set_current_work_item(self, item: WorkItem) -> None:
        """Make ``item`` the target of the variable and file keywords.

        | =Arguments= | =Description= |
        | ``item`` | A work item returned by `Get Input Work Item` or `Create Output Work Item`. |

        Example:
        | `Set Current Work Item` | ${input} |

        Related: `Get Current Work Item`.
        """
        self.ctx.current = item

    def _next_input(self) -> WorkItem | None:
        active = self.ctx.active_input
        if active is not None and active.state is None:
            self.ctx.current = active
            return active
        try:
            return self.ctx.load_next_input()
        except EmptyQueue:
            return None

    def _run_one(self, item: WorkItem, call: Callable[[], Any], failed: list[str]) -> Any:
        try:
            result = call()
        except Exception as error:
            fatal = bool(getattr(error, "dont_continue", False)) or _is_robot_pass(error)
            if item.state is None:
                if _is_robot_pass(error):
                    self.ctx.release(State.DONE)
                else:
                    kind, code, message = classify(error)
                    self.ctx.release(State.FAILED, kind, code, message)
                    LOG.warning("action=item_failed item=%s type=%s code=%s", item.id, kind.value, code)
                    if kind is Error.APPLICATION:
                        failed.append(f"Arbeitselement {item.id}: {code}")
            if fatal:
                raise
            return None
        if item.state is None:
            self.ctx.release(State.DONE)
        return result


def _is_robot_pass(error: BaseException) -> bool:
    return type(error).__name__ == "ExecutionPassed"


def _caller(target: str | Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Callable[[], Any]:
    if callable(target):
        return lambda: target(*args, **kwargs)
    from robot.libraries.BuiltIn import BuiltIn

    name = str(target)
    named = [f"{key}={value}" for key, value in kwargs.items()]  # Robot's named-argument syntax
    return lambda: BuiltIn().run_keyword(name, *args, *named)
