"""Form keywords: fill a whole form in one browser round trip, click, submit."""

from __future__ import annotations

import secrets as _random
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.types import Secret
from robotlibcore import keyword

from .context import WebFormsContext, guarded
from .errors import FieldValueError, ServerError, UnknownFieldError

_SELECTOR_HINTS = ("#", ".", "[", "//", "(", "css=", "xpath=", "text=", "id=", "role=", "internal:", "data-")
_SUBMIT = "button[type=submit], input[type=submit], button:not([type])"


@lru_cache(maxsize=1)
def fill_script() -> str:
    """The page-side fill function (fill.js), read once."""
    return resources.files(__package__).joinpath("fill.js").read_text(encoding="utf-8")


def looks_like_selector(text: str) -> bool:
    """Whether ``text`` is a Playwright selector rather than a button's visible text."""
    return text.startswith(_SELECTOR_HINTS) or any(ch in text for ch in "=>[]#")


def _plain(value: Any) -> Any:
    """Values as the page script takes them: Secret unwrapped, paths as text, tuples as lists."""
    if isinstance(value, Secret):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return value


class FormKeywords:
    """Fill Form, Fill Text, Click, Submit Form, Get Form Values."""

    def __init__(self, ctx: WebFormsContext) -> None:
        self.ctx = ctx

    def _fill(self, fields: Mapping[str, Any], form: str | None) -> int:
        items = [(str(k), _plain(v)) for k, v in fields.items() if v is not None]
        mark = _random.token_hex(4)
        args = {"fields": items, "mark": mark}
        page = self.ctx.page
        if form:
            result = page.locator(form).evaluate(fill_script(), args)
        else:
            result = page.evaluate(f"args => ({fill_script()})(document, args)", args)
        if result["unknown"]:
            raise UnknownFieldError(result["unknown"], result["available"])
        uploads = result["uploads"]
        if uploads:
            values = dict(items)
            for upload in uploads:
                paths = values[upload["key"]]
                paths = paths if isinstance(paths, list) else [paths]
                missing = [p for p in paths if not Path(p).is_file()]
                if missing:
                    raise FieldValueError({upload["key"]: "Datei zum Hochladen nicht gefunden"})
                target = page.locator(f'[data-rathaus-upload="{upload["marker"]}"]')
                target.set_input_files(paths)
                target.evaluate("el => el.removeAttribute('data-rathaus-upload')")
        if result["problems"]:
            raise FieldValueError(result["problems"])
        return len(items)

    @keyword
    @guarded
    def fill_form(self, fields: Mapping[str, Any] | None = None, form: str | None = None, **more: Any) -> None:
        """Fills a whole form from a mapping of field -> value in one step, firing the page's own events.

        | =Arguments= | =Description= |
        | ``fields`` | Dictionary: key is a field's ``name``, ``id`` or label text; value is what to enter. |
        | ``form`` | Optional selector of the form (or any element) to search in, e.g. ``#fall-neu``. |
        | ``**more`` | Further ``key=value`` pairs, added to ``fields``. |

        Values by kind of field:
        - text, textarea: the text (numbers are turned into text).
        - select: an option's value or its visible text; a list for multi-selects.
        - checkbox: ``${True}``/``${False}`` or ``ja``/``nein``; several checkboxes with one name: a list.
        - radio group (key is the name or the group's legend): an option's value or label text.
        - file upload: a path or a list of paths.
        - ``${None}`` leaves a field untouched. [https://robotframework.org/|Secret] values are allowed.

        Labels can repeat on a page (e.g. "Name" for applicant and child); then use the ``name``. Hidden
        tabs need not be opened: all fields of the page (or of ``form``) are reachable. Nothing is filled
        unless every key is found and every value fits. Unknown keys fail with error code
        ``UNKNOWN_FIELD`` that lists the fields the form has; unsuitable values with ``FIELD_VALUE``.
        Values are never logged, only the number of fields.

        Example:
        | &{antrag} = | Create Dictionary | antragsteller_name=Müller | antragsteller_familienstand=ledig |
        | ... | antragsteller_lebt_mit_kind=${True} | kind_geschlecht=w | anlage_datei=${CURDIR}/urkunde.pdf |
        | `Fill Form` | ${antrag} | form=#fall-neu |

        See also `Fill Text`, `Submit Form`, `Get Validation Messages`, `Get Form Values`.
        """
        merged = {**(fields or {}), **more}
        if not merged:
            return
        count = self._fill(merged, form)
        logger.info(f"Formular ausgefüllt: {count} Felder ({', '.join(map(str, merged))}).")

    @keyword
    @guarded
    def fill_text(self, field: str, value: str | Secret, form: str | None = None) -> None:
        """Fills one field; pass passwords as ``Secret`` so that they never reach a log.

        | =Arguments= | =Description= |
        | ``field`` | The field's ``name``, ``id`` or label text. |
        | ``value`` | Text or ``Secret``, e.g. ``${PASSWORT}`` from ``${PASSWORT: Secret}  %{UVG_PASSWORT}``. |
        | ``form`` | Optional selector of the form to search in. |

        Works like `Fill Form` with one field (same events, same errors).

        Example:
        | `Fill Text` | Benutzername | robot.giessen |
        | `Fill Text` | Passwort | ${PASSWORT} |

        See also `Fill Form`, `Submit Form`.
        """
        self._fill({field: value}, form)
        logger.info(f"Feld ausgefüllt: {field}")

    @keyword
    @guarded
    def click(self, locator: str) -> None:
        """Clicks an element (button, link, tab) after waiting until it can be clicked.

        | =Arguments= | =Description= |
        | ``locator`` | Playwright selector: CSS (``#anlegen``), ``text=Kind``, ``role=tab[name="Kind"]``, XPath. |

        Example:
        | `Click` | role=tab[name="Kind"] |

        See also `Submit Form`, `Wait For Element`.
        """
        self.ctx.page.locator(locator).first.click()

    @keyword
    @guarded
    def submit_form(self, button: str | None = None, form: str | None = None, wait: bool = True) -> None:
        """Clicks the submit button and waits until the next page has loaded.

        | =Arguments= | =Description= |
        | ``button`` | Visible text (``Fall anlegen``) or a selector. Default: see below. |
        | ``form`` | Optional selector of the form whose submit button is meant. |
        | ``wait`` | Wait for the next page (default). ``${False}`` just clicks (pages that stay put). |

        Without ``button`` it presses the first submit button of the form that `Fill Form` or `Fill Text`
        filled last, else the first submit button of ``form`` or of the page (which may be a header's
        "Abmelden" button: name the button when in doubt).

        Fails with code ``SERVER_ERROR`` when the answer is HTTP 5xx and ``TIMEOUT`` when no page follows.

        Example:
        | `Submit Form` | Fall anlegen |
        | ${az} = | `Get Text` | \\#aktenzeichen |

        See also `Fill Form`, `Get Validation Messages`, `Wait For Text`.
        """
        page = self.ctx.page
        scope = page.locator(form) if form else page
        if button is None:
            last = scope.locator(f"form[data-rathaus-zuletzt] :is({_SUBMIT})")
            target = (last if last.count() else scope.locator(_SUBMIT)).first
        elif looks_like_selector(button):
            target = scope.locator(button).first
        else:
            target = scope.get_by_role("button", name=button, exact=True).first
        if not wait:
            target.click()
            return
        with page.expect_navigation(wait_until="load") as navigation:
            target.click()
        response = navigation.value
        if response is not None and response.status >= 500:
            raise ServerError(response.url, response.status)

    @keyword
    @guarded
    def get_form_values(self, form: str | None = None) -> dict[str, Any]:
        """Returns the current values of a form's fields as a dictionary name -> value.

        | =Arguments= | =Description= |
        | ``form`` | Optional selector of the form; default all fields of the page. |

        Text fields and selects give text, checkboxes ``True``/``False`` (a list of values for groups),
        radio groups the chosen value (or ``None``), file inputs the file names. Password fields are left out.

        Example:
        | ${werte} = | `Get Form Values` | \\#fall-neu |
        | Should Be Equal | ${werte}[kind_geschlecht] | w |

        See also `Fill Form`.
        """
        script = """(root) => {
          const out = {};
          root.querySelectorAll("input, select, textarea").forEach((el) => {
            const name = el.name || el.id;
            if (!name || el.type === "password" || ["submit", "button", "reset", "image"].includes(el.type)) return;
            if (el.type === "radio") { if (!(name in out)) out[name] = null; if (el.checked) out[name] = el.value; }
            else if (el.type === "checkbox") {
              const group = root.querySelectorAll('input[type=checkbox][name="' + CSS.escape(name) + '"]').length > 1;
              if (group) { out[name] = out[name] || []; if (el.checked) out[name].push(el.value); }
              else out[name] = el.checked;
            }
            else if (el.type === "file") out[name] = Array.from(el.files).map((f) => f.name);
            else if (el.tagName === "SELECT" && el.multiple) {
              out[name] = Array.from(el.selectedOptions).map((o) => o.value);
            }
            else out[name] = el.value;
          });
          return out;
        }"""
        page = self.ctx.page
        if form:
            return page.locator(form).evaluate(script)
        return page.evaluate(f"() => ({script})(document)")
