"""Write Libdoc HTML for every rathaus keyword library and process resource: ``python scripts/libdoc.py OUT``.

Libraries with German keywords (``translation_de.json``, ``language=de``) also get ``<Name>-de.html``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from rathaus.translation import library_translation_file
from robot.libdoc import libdoc

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "processes"), str(ROOT / "resources")]

#: the rathaus keyword libraries
CORE_LIBRARIES = ["rathaus.Mail", "rathaus.PDF", "rathaus.WebForms", "rathaus.Documents", "rathaus.WorkItems",
                  "rathaus.Process", "rathaus.EInvoice"]


def process_libraries() -> list[str]:
    """The keyword libraries every process declares in its process.yaml (``libraries:``)."""
    names: list[str] = []
    for path in sorted(ROOT.glob("processes/*/process.yaml")):
        names += yaml.safe_load(path.read_text(encoding="utf-8")).get("libraries") or []
    return names


LIBRARIES = CORE_LIBRARIES + process_libraries()


def german_libraries() -> list[str]:
    """The libraries that also offer German keyword names (``Library    <name>    language=de``)."""
    return [name for name in LIBRARIES if library_translation_file(name)]


def resources() -> list[Path]:
    return sorted([*ROOT.glob("processes/*/steps/*.resource"), *ROOT.glob("resources/*.resource")])


def main(out: str) -> int:
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    for name in LIBRARIES:
        libdoc(name, str(target / f"{name.rsplit('.', 1)[-1]}.html"), quiet=True)
    for name in german_libraries():
        libdoc(f"{name}::language=de", str(target / f"{name.rsplit('.', 1)[-1]}-de.html"), quiet=True)
    for resource in resources():
        libdoc(str(resource), str(target / f"{resource.parent.parent.name}-{resource.stem}.html"), quiet=True)
    print(f"Keyword documentation in {target.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/keywords"))
