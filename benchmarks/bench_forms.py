"""Form entry: rathaus WebForms vs rpaframework's RPA.Browser.Selenium on the sandbox's 40-field form.

One case = open the form page, enter 40 fields (39 text inputs, one select), submit, wait for the result
page. Both libraries keep their browser open across cases (as a robot does) and take turns case by case,
so that load on the machine hits both alike; the time per case is the median over ``CASES`` cases after
``WARMUP`` warm-up cases. After each case (outside the timing) the result
page is checked: every value arrived, and on the rathaus side every field saw ``input`` and ``change``.

Run: ``.venv/bin/python benchmarks/bench_forms.py``; exits 1 when the target is missed.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

from rathaus_sandbox.fachverfahren.fields import exercise_fields
from rathaus_sandbox.server import start_sandbox

CASES = 20
WARMUP = 3
TARGET_RATIO = 15.0  # rathaus at most 1/15 of Selenium's time per case
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
RESULT_JS = "return JSON.parse(document.getElementById('ergebnis-daten').textContent)"


def case_values(case: int) -> dict[str, str]:
    """40 values with umlauts; the select (Bundesland) gets a state code."""
    values = {}
    for f in exercise_fields():
        if f.kind == "select":
            values[f.name] = ("HE", "BY", "NW")[case % 3]
        else:
            values[f.name] = f"{f.label} Nr. {case} – Müller/Gießen/Straße"
    return values


def check_result(data: dict[str, Any], expected: dict[str, str], both_events: bool) -> None:
    """Every value arrived; every field saw input and change (``both_events``) or at least one of them."""
    werte = data["werte"]
    wrong = [k for k, v in expected.items() if werte.get(k) != v]
    if wrong:
        raise AssertionError(f"Werte nicht angekommen: {wrong}")
    counts = data["ereignisse"]
    silent = []
    for k in expected:
        got = counts.get(k, {})
        seen = [got.get("input", 0) > 0, got.get("change", 0) > 0]
        if not (all(seen) if both_events else any(seen)):
            silent.append(k)
    if silent:
        raise AssertionError(f"Ohne input/change-Ereignis: {silent}")


class SeleniumSide:
    """rpaframework's RPA.Browser.Selenium with Debian chromium and chromedriver; its own keywords per field."""

    def __init__(self, url: str) -> None:
        from RPA.Browser.Selenium import Selenium
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        options = Options()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900"):
            options.add_argument(arg)
        self.url = url
        self.lib = Selenium()
        self.lib.open_browser(url, browser="chrome", options=options, service=Service(CHROMEDRIVER))

    def case(self, values: dict[str, str]) -> float:
        lib = self.lib
        start = time.perf_counter()
        lib.go_to(self.url)
        for f in exercise_fields():
            if f.kind == "select":
                lib.select_from_list_by_value(f"name:{f.name}", values[f.name])
            else:
                lib.input_text(f"name:{f.name}", values[f.name])
        lib.click_button("id:absenden")
        lib.wait_until_element_is_visible("id:ergebnis")
        elapsed = time.perf_counter() - start
        # Selenium's select fires change only; typing fires input per key and change on blur.
        check_result(lib.driver.execute_script(RESULT_JS), values, both_events=False)
        return elapsed

    def close(self) -> None:
        self.lib.close_all_browsers()


class RathausSide:
    """rathaus WebForms: Go To, one Fill Form with all 40 fields, Submit Form."""

    def __init__(self, url: str) -> None:
        from rathaus.webforms import WebForms

        self.url = url
        self.lib = WebForms(browser_path=CHROMIUM)
        self.lib.open_browser(url)

    def case(self, values: dict[str, str]) -> float:
        lib = self.lib
        start = time.perf_counter()
        lib.go_to(self.url)
        lib.fill_form(values)
        lib.submit_form()
        elapsed = time.perf_counter() - start
        data = lib.ctx.page.evaluate("() => " + RESULT_JS.removeprefix("return "))
        check_result(data, values, both_events=True)
        return elapsed

    def close(self) -> None:
        self.lib.close_all_browsers()


def measure(url: str) -> tuple[float, float]:
    """Median seconds per case (rathaus, Selenium); the two sides take turns case by case."""
    selenium = SeleniumSide(url)
    rathaus = RathausSide(url)
    rpa_times, rathaus_times = [], []
    try:
        for case in range(WARMUP + CASES):
            values = case_values(case)
            rpa = selenium.case(values)
            ours = rathaus.case(values)
            if case >= WARMUP:
                rpa_times.append(rpa)
                rathaus_times.append(ours)
    finally:
        rathaus.close()
        selenium.close()
    return statistics.median(rathaus_times), statistics.median(rpa_times)


def run() -> list[dict]:
    """Both measurements against one sandbox; one row per scenario."""
    with start_sandbox({"mandant": "Universitätsstadt Gießen"}) as sandbox:
        url = sandbox.url + "uebung/formular-40"
        rathaus_s, rpa_s = measure(url)
    return [{
        "name": "40-Felder-Formular (39 Text, 1 Auswahl) + Absenden, je Fall",
        "rathaus_s": rathaus_s,
        "rpa_s": rpa_s,
        "ratio": rpa_s / rathaus_s,
        "target": TARGET_RATIO,
    }]


def main() -> int:
    rows = run()
    ok = True
    for row in rows:
        met = row["ratio"] >= row["target"]
        ok &= met
        print(f"{row['name']}: rathaus {row['rathaus_s'] * 1000:.1f} ms, RPA.Browser.Selenium "
              f"{row['rpa_s'] * 1000:.1f} ms, Faktor {row['ratio']:.1f} (Ziel ≥ {row['target']:g}) "
              f"{'erreicht' if met else 'VERFEHLT'}")
    print(json.dumps(rows))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
