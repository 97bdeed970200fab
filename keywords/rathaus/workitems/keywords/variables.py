"""Keywords that read and write the current work item's payload and variables."""

from __future__ import annotations

import json
from typing import Any

from robot.api.deco import keyword

from rathaus.workitems.errors import VariableMissingError, WorkItemUsageError
from rathaus.workitems.keywords.base import LibraryComponent


class _NoDefault:
    def __repr__(self) -> str:
        return "<no default>"


NO_DEFAULT: Any = _NoDefault()


class VariableKeywords(LibraryComponent):
    """Payload and variables of the current work item."""

    @keyword
    def get_work_item_payload(self) -> Any:
        """Return the current work item's whole payload (usually a dictionary).

        Example:
        | ${payload}= | `Get Work Item Payload` |

        Related: `Set Work Item Payload`, `Get Work Item Variables`.
        """
        return self.ctx.current.payload

    @keyword
    def set_work_item_payload(self, payload: Any) -> None:
        """Replace the current work item's payload; it must be JSON (dictionary, list, text, number).

        Variables keywords need a dictionary payload. Changes are kept after `Save Work Item`.

        | =Arguments= | =Description= |
        | ``payload`` | The new payload. |

        Example:
        | &{payload}= | Create Dictionary | aktenzeichen=UVG-2026-0042 |
        | `Set Work Item Payload` | ${payload} |

        Related: `Get Work Item Payload`, `Save Work Item`.
        """
        self.ctx.current.payload = payload

    @keyword
    def list_work_item_variables(self) -> list[str]:
        """Return the names of the current work item's variables.

        Example:
        | ${names}= | `List Work Item Variables` |

        Related: `Get Work Item Variables`.
        """
        return list(self.ctx.variables())

    @keyword
    def get_work_item_variable(self, name: str, default: Any = NO_DEFAULT) -> Any:
        """Return one variable of the current work item, or ``default`` if it is missing.

        Without a default, a missing variable fails (a ``KeyError`` in Python).

        | =Arguments= | =Description= |
        | ``name`` | Name of the variable. |
        | ``default`` | Value returned when the variable is missing. |

        Example:
        | ${az}= | `Get Work Item Variable` | aktenzeichen | default=${None} |

        Related: `Get Work Item Variables`, `Set Work Item Variable`.
        """
        variables = self.ctx.variables()
        if name in variables:
            return variables[name]
        if default is NO_DEFAULT:
            known = ", ".join(sorted(variables)) or "keine"
            raise VariableMissingError(
                f"Arbeitselement {self.ctx.current.id} hat keine Variable '{name}' (vorhanden: {known}): "
                "Erzeuger prüfen oder default= angeben."
            )
        return default

    @keyword
    def get_work_item_variables(self) -> dict[str, Any]:
        """Return all variables of the current work item as a dictionary (the payload itself).

        Example:
        | ${fall}= | `Get Work Item Variables` |
        | Log | ${fall}[message_id] |

        Related: `Get Work Item Variable`, `Set Work Item Variables`.
        """
        return self.ctx.variables()

    @keyword
    def set_work_item_variable(self, name: str, value: Any) -> None:
        """Set one variable of the current work item; kept after `Save Work Item`.

        | =Arguments= | =Description= |
        | ``name`` | Name of the variable. |
        | ``value`` | Its value (JSON: text, number, list, dictionary). |

        Example:
        | `Set Work Item Variable` | aktenzeichen | UVG-2026-0042 |
        | `Save Work Item` |

        Related: `Set Work Item Variables`, `Save Work Item`.
        """
        self.set_work_item_variables(**{name: value})

    @keyword
    def set_work_item_variables(self, **variables: Any) -> None:
        """Set several variables of the current work item; kept after `Save Work Item`.

        | =Arguments= | =Description= |
        | ``**variables`` | ``name=value`` pairs. |

        Example:
        | `Set Work Item Variables` | aktenzeichen=UVG-2026-0042 | brief=eingangsbestaetigung |

        Related: `Set Work Item Variable`, `Delete Work Item Variables`.
        """
        try:
            json.dumps(variables)
        except (TypeError, ValueError):
            raise WorkItemUsageError(
                f"Variablen {', '.join(variables)} sind nicht als JSON speicherbar: Text, Zahl, Liste oder "
                "Dictionary verwenden."
            ) from None
        self.ctx.variables().update(variables)

    @keyword
    def delete_work_item_variables(self, *names: str, force: bool = True) -> None:
        """Delete variables from the current work item.

        | =Arguments= | =Description= |
        | ``*names`` | Names of the variables. |
        | ``force`` | Ignore names that do not exist (default); with ``False`` a missing name fails. |

        Example:
        | `Delete Work Item Variables` | iban | telefon |
        | `Save Work Item` |

        Related: `Set Work Item Variables`.
        """
        variables = self.ctx.variables()
        for name in names:
            if name in variables:
                del variables[name]
            elif not force:
                raise VariableMissingError(f"Arbeitselement {self.ctx.current.id} hat keine Variable '{name}'.")

    @keyword
    def set_task_variables_from_work_item(self) -> None:
        """Make every variable of the current work item a task variable of the same name (as rpaframework).

        Example:
        | `Set Task Variables From Work Item` |
        | Log | Antrag von ${absender} |

        Related: `Get Work Item Variables`.
        """
        from robot.libraries.BuiltIn import BuiltIn

        for name, value in self.ctx.variables().items():
            BuiltIn().set_task_variable(f"${{{name}}}", value)

    @keyword
    def clear_work_item(self) -> None:
        """Remove all variables and files of the current work item (on `Save Work Item`), as rpaframework.

        Example:
        | `Clear Work Item` |
        | `Save Work Item` |

        Related: `Delete Work Item Variables`, `Remove Work Item Files`.
        """
        item = self.ctx.current
        self.ctx.variables().clear()
        for name in list(item.files):
            item.remove_file(name)

