"""The WebForms library class."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from robotlibcore import DynamicCore

from rathaus.translation import load_translation

from .browser import BrowserKeywords
from .context import WebFormsContext
from .forms import FormKeywords
from .reading import ReadingKeywords
from .screenshots import ScreenshotKeywords


class WebForms(DynamicCore):
    """Enter data into Fachverfahren web applications with Playwright (Chromium).

    = Speed =
    `Fill Form` fills a whole form in one browser round trip: it finds every field by name, id or label
    inside the page, sets the values through the native value setters and fires the ``input`` and
    ``change`` events that a user's typing would fire. Checkboxes and radios are clicked.

    = Browser =
    One browser per run, started on first use: ``browser_path``, else the environment variable
    ``RATHAUS_BROWSER``, else ``/usr/bin/chromium``, ``/usr/bin/chromium-browser`` or
    ``/usr/bin/google-chrome``, else Playwright's own Chromium. Headless by default. Each `Open Browser`
    gets a fresh context (no cookies), so sessions of different cases never mix.

    = Personal data =
    Filled values are never logged, only field names. Pass passwords as ``Secret``. Screenshots (on
    failure, and `Take Screenshot`) show personal data: they are written to the run's output folder,
    which needs the same deletion period as the case data; ``screenshot_on_failure=False`` turns the
    automatic ones off.

    = Errors =
    All failures are ``ApplicationError`` with a code: ``SITE_UNREACHABLE``, ``TIMEOUT``,
    ``SERVER_ERROR``, ``UNKNOWN_FIELD``, ``FIELD_VALUE``, ``BROWSER_START``.

    Example:
    | ***** Settings *****
    | Library    rathaus.WebForms    timeout=20 s
    |
    | ***** Variables *****
    | ${PASSWORT: Secret}    %{UVG_PASSWORT}
    |
    | ***** Test Cases *****
    | Fall anlegen
    |     Open Browser    ${URL}/anmelden
    |     Fill Text    Benutzername    robot.giessen
    |     Fill Text    Passwort    ${PASSWORT}
    |     Submit Form
    |     Go To    ${URL}/faelle/neu
    |     Fill Form    ${antrag}
    |     Submit Form    Fall anlegen
    |     ${az} =    Get Text    \\#aktenzeichen
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(
        self,
        headless: bool = True,
        browser_path: str | None = None,
        timeout: timedelta = timedelta(seconds=10),
        screenshot_on_failure: bool = True,
        screenshot_dir: str | None = None,
        language: str = "en",
    ) -> None:
        """| =Arguments= | =Description= |
        | ``headless`` | Run the browser without a window (default). |
        | ``browser_path`` | Chromium/Chrome executable; default ``RATHAUS_BROWSER`` or the system's. |
        | ``timeout`` | Default wait for pages and elements, e.g. ``20 s``. |
        | ``screenshot_on_failure`` | Save a screenshot when a keyword fails (default). |
        | ``screenshot_dir`` | Folder for screenshots; default Robot's ``${OUTPUT DIR}`` or ``./output``. |
        | ``language`` | Keyword language: ``en`` (default) or ``de`` for German names and documentation. |
        """
        translation = load_translation(Path(__file__).parent, language, "rathaus.WebForms")
        self.ctx = WebFormsContext(
            headless=headless,
            browser_path=browser_path,
            timeout=timeout,
            screenshot_on_failure=screenshot_on_failure,
            screenshot_dir=Path(screenshot_dir) if screenshot_dir else None,
        )
        self.ROBOT_LIBRARY_LISTENER = self
        super().__init__(
            [BrowserKeywords(self.ctx), FormKeywords(self.ctx), ReadingKeywords(self.ctx),
             ScreenshotKeywords(self.ctx)],
            translation=translation,
        )

    def _close(self) -> None:
        """Library listener: the run (library scope) ends; stop the browser."""
        self.ctx.shutdown()
