"""Reading and waiting keywords."""

from __future__ import annotations

from datetime import timedelta

from robotlibcore import keyword

from .context import WebFormsContext, guarded, seconds

DEFAULT_MESSAGE_SELECTOR = ".fehler[data-feld]"


class ReadingKeywords:
    """Wait For Element, Wait For Text, Get Text, Get Validation Messages."""

    def __init__(self, ctx: WebFormsContext) -> None:
        self.ctx = ctx

    def _timeout_ms(self, timeout: timedelta | None) -> float:
        return seconds(timeout, self.ctx.timeout_s) * 1000

    @keyword
    @guarded
    def wait_for_element(self, locator: str, state: str = "visible", timeout: timedelta | None = None) -> None:
        """Waits until an element reaches ``state``.

        | =Arguments= | =Description= |
        | ``locator`` | Playwright selector, e.g. ``#aktenzeichen`` or ``text=Fall wurde angelegt.`` |
        | ``state`` | ``visible`` (default), ``attached``, ``hidden`` or ``detached``. |
        | ``timeout`` | How long to wait; default the library timeout. Fails with code ``TIMEOUT``. |

        Example:
        | `Wait For Element` | \\#ergebnisse | timeout=20 s |

        See also `Wait For Text`, `Set Browser Timeout`.
        """
        self.ctx.page.locator(locator).first.wait_for(state=state, timeout=self._timeout_ms(timeout))

    @keyword
    @guarded
    def wait_for_text(self, text: str, timeout: timedelta | None = None) -> None:
        """Waits until ``text`` is visible somewhere on the page.

        | =Arguments= | =Description= |
        | ``text`` | Text to wait for (substring, case-insensitive). |
        | ``timeout`` | How long to wait; default the library timeout. Fails with code ``TIMEOUT``. |

        Example:
        | `Wait For Text` | Fall wurde angelegt. |

        See also `Wait For Element`, `Get Text`.
        """
        self.ctx.page.get_by_text(text).first.wait_for(state="visible", timeout=self._timeout_ms(timeout))

    @keyword
    @guarded
    def get_text(self, locator: str) -> str:
        """Returns the visible text of the first element matching ``locator``, without surrounding blanks.

        | =Arguments= | =Description= |
        | ``locator`` | Playwright selector, e.g. ``#aktenzeichen``. |

        Example:
        | ${aktenzeichen} = | `Get Text` | \\#aktenzeichen |

        See also `Wait For Element`, `Get Validation Messages`.
        """
        return self.ctx.page.locator(locator).first.inner_text().strip()

    @keyword
    @guarded
    def get_validation_messages(
        self, selector: str = DEFAULT_MESSAGE_SELECTOR, key_attribute: str = "data-feld"
    ) -> dict[str, str]:
        """Returns the page's validation messages as a dictionary field -> message (empty when none).

        | =Arguments= | =Description= |
        | ``selector`` | CSS selector of the message elements. Default ``.fehler[data-feld]`` (the sandbox's). |
        | ``key_attribute`` | Attribute naming the field; elements without it are keyed ``meldung_1``, … |

        Several messages for one field are joined with a blank. Does not wait: call it right after
        `Submit Form`.

        Example:
        | ${fehler} = | `Get Validation Messages` |
        | Should Be Empty | ${fehler} |

        See also `Submit Form`, `Get Text`.
        """
        script = """([selector, attribute]) => {
          const out = {};
          let n = 0;
          document.querySelectorAll(selector).forEach((el) => {
            const text = (el.innerText || el.textContent || "").replace(/\\s+/g, " ").trim();
            if (!text) return;
            const key = el.getAttribute(attribute) || ("meldung_" + (++n));
            out[key] = out[key] ? out[key] + " " + text : text;
          });
          return out;
        }"""
        return self.ctx.page.evaluate(script, [selector, key_attribute])
