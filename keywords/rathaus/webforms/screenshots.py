"""Screenshot keyword."""

from __future__ import annotations

from robot.api import logger
from robotlibcore import keyword

from .context import WebFormsContext, guarded


class ScreenshotKeywords:
    """Take Screenshot (failure screenshots are taken by the library itself)."""

    def __init__(self, ctx: WebFormsContext) -> None:
        self.ctx = ctx

    @keyword
    @guarded
    def take_screenshot(self, name: str = "bildschirmfoto", full_page: bool = True) -> str:
        """Saves a PNG of the current page and returns its path.

        | =Arguments= | =Description= |
        | ``name`` | Start of the file name; a timestamp is added. |
        | ``full_page`` | Whole page (default) or only the visible part. |

        Files go to Robot's ``${OUTPUT DIR}`` during a run, else to ``./output`` (or the library's
        ``screenshot_dir``). Screenshots show what the page shows, often personal data: they fall under
        the same deletion periods as the case files.

        Example:
        | ${datei} = | `Take Screenshot` | nach-anlage |

        See also `Get Text`.
        """
        path = self.ctx.screenshot(name, full_page=full_page)
        logger.info(f'Bildschirmfoto: <a href="{path.as_uri()}">{path.name}</a>', html=True)
        return str(path)
