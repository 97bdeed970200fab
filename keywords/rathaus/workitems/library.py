"""The WorkItems library class that puts the keyword components together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robotlibcore import DynamicCore

from rathaus import __version__
from rathaus.translation import load_translation
from rathaus.workitems.adapters import BaseAdapter
from rathaus.workitems.keywords.base import WorkItemsContext, classify
from rathaus.workitems.keywords.files import FileKeywords
from rathaus.workitems.keywords.items import ItemKeywords
from rathaus.workitems.keywords.variables import VariableKeywords
from rathaus.workitems.model import State
from rathaus.workitems.settings import Settings


class _Listener:
    """Releases the input item like rpaframework: FAILED when a task fails, DONE at the end."""

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, ctx: WorkItemsContext) -> None:
        self.ctx = ctx

    def end_test(self, data: Any, result: Any) -> None:
        if not getattr(result, "failed", False):
            return
        item = self.ctx.active_input
        if item is None or item.state is not None:
            return
        kind, code, message = classify(RuntimeError(result.message or "Aufgabe fehlgeschlagen"))
        self.ctx.release(State.FAILED, kind, code, message, internal=True)

    def close(self) -> None:
        self.ctx.close()


class WorkItems(DynamicCore):
    """Producer/consumer work items with business and application exceptions.

    The keywords have the names and meaning of rpaframework's ``RPA.Robocorp.WorkItems``, so robots
    written for it read the same. Two adapters store the items:

    - ``FileAdapter``: ``work-items.json`` files as in Robocorp's ``devdata/`` and rpaframework's file
      adapter (``RPA_INPUT_WORKITEM_PATH``, ``RPA_OUTPUT_WORKITEM_PATH``).
    - ``QueueAdapter`` (default): named queues in one SQLite file, for ``rathaus run`` where the intake
      step produces one item per case and the processing step consumes them. Atomic reservation, items
      created with all their files at once, leases that hand a dead consumer's item to the next run (at
      once when its process on this host is gone), idempotent keys.

    | =Import argument= | =Description= |
    | ``adapter`` | ``FileAdapter`` or ``QueueAdapter`` (env ``RPA_WORKITEMS_ADAPTER``); or an adapter object. |
    | ``database`` | SQLite file of the queues (env ``RATHAUS_WORKITEMS_DB``, default ``output/workitems.sqlite``). |
    | ``input_queue`` | Queue to consume (env ``RATHAUS_WORKITEMS_INPUT_QUEUE``); none: one empty input item. |
    | ``output_queue`` | Queue for output items (env ``RATHAUS_WORKITEMS_OUTPUT_QUEUE``). |
    | ``lease_s`` | Seconds a reserved item stays with this run without a sign of life (default 600). |
    | ``input_path`` | File adapter input ``work-items.json`` (env ``RPA_INPUT_WORKITEM_PATH``). |
    | ``output_path`` | File adapter output JSON (env ``RPA_OUTPUT_WORKITEM_PATH``). |
    | ``autoload`` | Take the first input item when a keyword first needs one (default ``True``). |
    | ``root`` | Payload key under which the variables live (as in rpaframework), default none. |
    | ``default_adapter`` | Adapter when neither ``adapter`` nor ``RPA_WORKITEMS_ADAPTER`` names one (rpaframework). |
    | ``language`` | Keyword language: ``en`` (default) or ``de`` for German names and documentation. |

    Example:
    | Library | rathaus.WorkItems | adapter=QueueAdapter | input_queue=uvg |
    | *** Tasks *** |
    | Bearbeite Anträge |
    | | `For Each Input Work Item` | Bearbeite Antrag |

    From Python:
    | wi = WorkItems(adapter="queue", database=db, output_queue="uvg")
    | wi.create_output_work_item({"message_id": mid, "work_item_key": mid}, files=[pdf], save=True)
    | consumer = WorkItems(adapter="queue", database=db, input_queue="uvg")
    | consumer.for_each_input_work_item(handle)
    | consumer.queue.summary("uvg")
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_VERSION = __version__
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"

    def __init__(
        self,
        adapter: str | BaseAdapter | None = None,
        database: Path | None = None,
        input_queue: str | None = None,
        output_queue: str | None = None,
        *,
        lease_s: float | None = None,
        input_path: Path | None = None,
        output_path: Path | None = None,
        autoload: bool = True,
        root: str | None = None,
        default_adapter: str | type | None = None,
        settings: Settings | None = None,
        language: str = "en",
    ) -> None:
        """The import arguments are described in the table of the library introduction."""
        translation = load_translation(Path(__file__).parent, language, "rathaus.WorkItems")
        instance = adapter if isinstance(adapter, BaseAdapter) else None
        if settings is None:
            settings = Settings.load(
                adapter=None if instance is not None else adapter,
                database=database,
                input_queue=input_queue,
                output_queue=output_queue,
                lease_s=lease_s,
                input_path=input_path,
                output_path=output_path,
                default_adapter=default_adapter,
            )
        self.settings = settings
        self._ctx = WorkItemsContext(settings, instance, autoload, root)
        self.ROBOT_LIBRARY_LISTENER = _Listener(self._ctx)
        super().__init__(
            [ItemKeywords(self._ctx), VariableKeywords(self._ctx), FileKeywords(self._ctx)],
            translation=translation,
        )

    @property
    def adapter(self) -> BaseAdapter:
        """The adapter in use (created on first use)."""
        return self._ctx.adapter

    @property
    def queue(self) -> Any:
        """The :class:`QueueAdapter` for reports (``summary``, ``list_items``); fails for other adapters."""
        from rathaus.workitems.errors import WorkItemsSetupError
        from rathaus.workitems.queue import QueueAdapter

        if not isinstance(self._ctx.adapter, QueueAdapter):
            raise WorkItemsSetupError("Berichte gibt es nur mit dem QueueAdapter (SQLite).")
        return self._ctx.adapter

    @property
    def inputs(self) -> list[Any]:
        """Input items taken so far in this run."""
        return list(self._ctx.inputs)

    @property
    def outputs(self) -> list[Any]:
        """Output items created so far in this run."""
        return list(self._ctx.outputs)

    def close(self) -> None:
        """Release an open input item as DONE and close the adapter (Robot does this at the end)."""
        self._ctx.close()
