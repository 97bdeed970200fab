"""The process's sample generator (``processes/e-rechnung/samples/generate.py``) as a module, for tests and demos.

The generator is a script beside the process (its folder name has a dash and is no package); this loads it once.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[1] / "e-rechnung" / "samples" / "generate.py"


@functools.cache
def sample_generator() -> ModuleType:
    """The loaded generator: ``generate()``, ``samples()``, ``ubl_xml()``, ``cii_xml()``, ``zugferd_pdf()`` …"""
    spec = importlib.util.spec_from_file_location("erechnung_samples", SCRIPT)
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module
