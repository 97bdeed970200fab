"""Fixtures for the browser tests: the sandbox Fachverfahren in a thread and one shared WebForms library."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.sandbox import running_sandbox

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator:
    """A running sandbox with its own database, per test module."""
    with running_sandbox(tmp_path_factory.mktemp("fachverfahren")) as server:
        yield server


@pytest.fixture(scope="module")
def webforms(tmp_path_factory) -> Iterator:
    """One WebForms library (one browser) for the module, screenshots into a temporary folder."""
    if CHROMIUM is None and shutil.which("chromium") is None:
        pytest.skip("Debian chromium is not installed")
    from rathaus.webforms import WebForms

    lib = WebForms(screenshot_dir=str(tmp_path_factory.mktemp("screenshots")))
    yield lib
    lib.close_all_browsers()
