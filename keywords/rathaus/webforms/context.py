"""Shared state of the WebForms components: one Playwright browser per run, the current page, error handling."""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from robot.api import logger

from rathaus.errors import RathausError

from .errors import BrowserStartError, PageTimeoutError, SiteUnreachableError, WebFormsError

T = TypeVar("T")

#: Checked in this order when no browser path is configured.
BROWSER_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
#: Without these Chromium keeps calling Google services that a closed city network refuses.
CHROMIUM_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
)
_UNREACHABLE = re.compile(
    r"net::(ERR_CONNECTION_REFUSED|ERR_NAME_NOT_RESOLVED|ERR_ADDRESS_UNREACHABLE|ERR_CONNECTION_RESET"
    r"|ERR_CONNECTION_TIMED_OUT|ERR_INTERNET_DISCONNECTED|ERR_EMPTY_RESPONSE)"
)
_URL_IN_ERROR = re.compile(r" at (\S+)")


def seconds(value: timedelta | float | str | None, default: float) -> float:
    """Robot timedelta, number or numeric text -> seconds."""
    if value is None:
        return default
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def find_browser(explicit: str | None = None) -> str | None:
    """Browser executable: the argument, ``RATHAUS_BROWSER``, a system Chromium/Chrome, or None (Playwright's)."""
    for candidate in (explicit, os.environ.get("RATHAUS_BROWSER")):
        if candidate:
            if not Path(candidate).exists():
                raise BrowserStartError(
                    f"Der Browser '{candidate}' wurde nicht gefunden. Bitte den Pfad (Argument browser_path "
                    "oder Umgebungsvariable RATHAUS_BROWSER) prüfen."
                )
            return candidate
    return next((c for c in BROWSER_CANDIDATES if Path(c).exists()), None)


class WebFormsContext:
    """State that all components share; the library object itself."""

    def __init__(
        self,
        headless: bool = True,
        browser_path: str | None = None,
        timeout: timedelta | float = 10.0,
        screenshot_on_failure: bool = True,
        screenshot_dir: str | Path | None = None,
    ) -> None:
        self.headless = headless
        self.browser_path = browser_path
        self.timeout_s = seconds(timeout, 10.0)
        self.screenshot_on_failure = screenshot_on_failure
        self.screenshot_dir = Path(screenshot_dir) if screenshot_dir else None
        self._playwright: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._page: Any = None
        self._depth = 0
        self.last_url: str | None = None

    # ----- browser lifecycle -----

    @property
    def browser(self) -> Any:
        """The one browser of this run, launched on first use."""
        if self._browser is None or not self._browser.is_connected():
            self._launch()
        return self._browser

    def _launch(self) -> None:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        executable = find_browser(self.browser_path)
        args = list(CHROMIUM_ARGS)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")
        if self._playwright is None:
            self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=executable, headless=self.headless, args=args
            )
        except PlaywrightError as err:
            raise BrowserStartError(
                f"Der Browser ließ sich nicht starten ({executable or 'Playwright-Chromium'}): "
                f"{_first_line(err)}. Bitte Chromium installieren oder RATHAUS_BROWSER setzen."
            ) from None
        logger.debug(f"Browser gestartet: {executable or 'Playwright-Chromium'}, headless={self.headless}")

    def new_page(self) -> Any:
        """Fresh context (no cookies) and page in the shared browser; closes the previous context."""
        self.close_context()
        self._context = self.browser.new_context(
            locale="de-DE", timezone_id="Europe/Berlin", viewport={"width": 1280, "height": 900}
        )
        self._context.set_default_timeout(self.timeout_s * 1000)
        self._context.set_default_navigation_timeout(self.timeout_s * 1000)
        self._page = self._context.new_page()
        return self._page

    @property
    def page(self) -> Any:
        """The current page; opens one when there is none yet."""
        if self._page is None or self._page.is_closed():
            return self.new_page()
        return self._page

    @property
    def has_page(self) -> bool:
        return self._page is not None and not self._page.is_closed()

    def close_context(self) -> None:
        if self._context is not None:
            try:
                self._context.close()
            except Exception as err:  # the browser may already be gone
                logger.debug(f"Kontext ließ sich nicht schließen: {err}")
        self._context = None
        self._page = None

    def shutdown(self) -> None:
        """Close context, browser and Playwright (end of the run)."""
        self.close_context()
        for attr, method in (("_browser", "close"), ("_playwright", "stop")):
            obj = getattr(self, attr)
            if obj is not None:
                try:
                    getattr(obj, method)()
                except Exception as err:
                    logger.debug(f"{attr} ließ sich nicht beenden: {err}")
                setattr(self, attr, None)

    # ----- screenshots -----

    def output_dir(self) -> Path:
        """Robot's ${OUTPUT DIR} during a run, else ./output (or the configured screenshot_dir)."""
        if self.screenshot_dir is not None:
            return self.screenshot_dir
        try:
            from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError
        except ImportError:  # pragma: no cover
            return Path.cwd() / "output"
        try:
            value = BuiltIn().get_variable_value("${OUTPUT DIR}")
        except RobotNotRunningError:
            value = None
        return Path(value) if value else Path.cwd() / "output"

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        folder = self.output_dir()
        folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^\w.-]+", "-", name).strip("-") or "bildschirmfoto"
        path = folder / f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 1_000_000:06d}.png"
        self.page.screenshot(path=str(path), full_page=full_page, timeout=max(self.timeout_s, 5) * 1000)
        return path

    # ----- keyword wrapper -----

    def guard(self, keyword: str, call: Callable[[], T]) -> T:
        """Run a keyword: translate Playwright errors, screenshot the page on failure (outermost call only)."""
        self._depth += 1
        try:
            return call()
        except Exception as err:
            if self._depth > 1:
                raise
            translated = translate_error(err, keyword, self.last_url, self.timeout_s)
            if translated is None:
                raise
            self._attach_failure_screenshot(keyword, translated)
            if translated is err:
                raise
            raise translated from None
        finally:
            self._depth -= 1

    def _attach_failure_screenshot(self, keyword: str, error: Exception) -> None:
        if not self.screenshot_on_failure or not self.has_page:
            return
        try:
            path = self.screenshot(f"rathaus-fehler-{keyword}")
        except Exception as shot_error:
            logger.debug(f"Bildschirmfoto nach Fehler nicht möglich: {shot_error}")
            return
        logger.info(
            f'Bildschirmfoto nach Fehler (kann personenbezogene Daten enthalten): <a href="{path.as_uri()}">'
            f"{path.name}</a>",
            html=True,
        )
        if error.args and isinstance(error.args[0], str):
            error.args = (f"{error.args[0]} Bildschirmfoto: {path}", *error.args[1:])


def translate_error(err: Exception, keyword: str, url: str | None, timeout_s: float) -> Exception | None:
    """Playwright errors -> rathaus errors; rathaus errors stay; anything else (bugs) returns None."""
    if isinstance(err, RathausError):
        return err
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout
    except ImportError:  # pragma: no cover
        return None
    if isinstance(err, PlaywrightTimeout):
        return PageTimeoutError(
            f"Zeitüberschreitung nach {timeout_s:g} s bei '{keyword}': {_first_line(err)}. "
            "Das Fachverfahren antwortet zu langsam oder die Seite sieht anders aus als erwartet."
        )
    if isinstance(err, PlaywrightError):
        message = str(err)
        if _UNREACHABLE.search(message):
            match = _URL_IN_ERROR.search(message.splitlines()[0])
            return SiteUnreachableError(match.group(1) if match else (url or "?"))
        return WebFormsError(f"Browserfehler bei '{keyword}': {_first_line(err)}")
    return None


def _first_line(err: BaseException) -> str:
    text = getattr(err, "message", None) or str(err)
    return text.strip().splitlines()[0] if text.strip() else type(err).__name__


def guarded(func: Callable[..., T]) -> Callable[..., T]:
    """Decorator for component methods: run through :meth:`WebFormsContext.guard`."""

    @functools.wraps(func)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> T:
        return self.ctx.guard(func.__name__, lambda: func(self, *args, **kwargs))

    return wrapper
