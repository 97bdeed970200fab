"""Browser and page lifecycle keywords."""

from __future__ import annotations

from datetime import timedelta

from robot.api import logger
from robotlibcore import keyword

from .context import WebFormsContext, guarded, seconds
from .errors import ServerError


class BrowserKeywords:
    """Open, navigate and close; the browser process itself is shared by the whole run."""

    def __init__(self, ctx: WebFormsContext) -> None:
        self.ctx = ctx

    @keyword
    @guarded
    def open_browser(self, url: str | None = None) -> None:
        """Opens a fresh browser page (no cookies, no session) and optionally goes to ``url``.

        | =Arguments= | =Description= |
        | ``url`` | Address to open, e.g. ``http://127.0.0.1:8765/anmelden``. Optional. |

        The browser process is started on first use and reused for the whole run; each call gets a new,
        empty context (like a private window), so call it once per login. A page opened before is closed.

        Example:
        | `Open Browser` | ${FACHVERFAHREN}/anmelden |

        See also `Go To`, `Close Browser`, `Close All Browsers`.
        """
        self.ctx.new_page()
        if url:
            self._goto(url)

    @keyword
    @guarded
    def go_to(self, url: str) -> None:
        """Navigates the current page to ``url`` and waits until it has loaded.

        | =Arguments= | =Description= |
        | ``url`` | Address to open. |

        Opens a page first when none is open. Fails with an error of code ``SITE_UNREACHABLE`` when the
        server does not answer and ``SERVER_ERROR`` for HTTP 5xx answers (e.g. maintenance).

        Example:
        | `Go To` | ${FACHVERFAHREN}/faelle/neu |

        See also `Open Browser`, `Get Url`.
        """
        self._goto(url)

    def _goto(self, url: str) -> None:
        self.ctx.last_url = url
        response = self.ctx.page.goto(url, wait_until="load")
        if response is not None and response.status >= 500:
            raise ServerError(url, response.status)
        logger.info(f"Seite geöffnet: {url}")

    @keyword
    @guarded
    def get_url(self) -> str:
        """Returns the address of the current page.

        | =Arguments= | =Description= |
        | (none) | |

        Example:
        | ${url} = | `Get Url` |
        | Should Contain | ${url} | /faelle/UVG- |

        See also `Go To`.
        """
        return self.ctx.page.url

    @keyword
    def close_browser(self) -> None:
        """Closes the current page and its context (cookies, session); the browser process stays for reuse.

        | =Arguments= | =Description= |
        | (none) | |

        Example:
        | `Close Browser` |

        See also `Open Browser`, `Close All Browsers`.
        """
        self.ctx.close_context()

    @keyword
    def close_all_browsers(self) -> None:
        """Closes the page, the browser process and Playwright. Also happens automatically at the end of the run.

        | =Arguments= | =Description= |
        | (none) | |

        Example:
        | [Teardown] | `Close All Browsers` |

        See also `Close Browser`.
        """
        self.ctx.shutdown()

    @keyword
    def set_browser_timeout(self, timeout: timedelta) -> float:
        """Sets how long keywords wait for pages and elements; returns the previous value in seconds.

        | =Arguments= | =Description= |
        | ``timeout`` | Robot time, e.g. ``30 s`` or ``1 min``. |

        Applies to the current page at once and to pages opened later.

        Example:
        | ${alt} = | `Set Browser Timeout` | 30 s |

        See also `Wait For Element`, `Wait For Text`.
        """
        old = self.ctx.timeout_s
        self.ctx.timeout_s = seconds(timeout, old)
        if self.ctx.has_page:
            self.ctx.page.context.set_default_timeout(self.ctx.timeout_s * 1000)
            self.ctx.page.context.set_default_navigation_timeout(self.ctx.timeout_s * 1000)
        return old
