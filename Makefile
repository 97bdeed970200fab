# The README's two commands are `make demo` and `make test`; both set everything up first.
VENV := .venv/bin
ROBOT_OPTS := --pythonpath processes --pythonpath resources --maxassignlength 0

.PHONY: setup demo test lint unit acceptance benchmark crashtest docs robot-yaml clean

setup:
	@bash scripts/setup.sh

demo: setup
	bash scripts/demo.sh

test: setup lint unit acceptance

lint:
	$(VENV)/ruff check .

unit:
	$(VENV)/pytest

acceptance:
	$(VENV)/robot $(ROBOT_OPTS) --outputdir output/acceptance tests/acceptance

benchmark: setup
	$(VENV)/python benchmarks/run_all.py

# at least 100 SIGKILLs of `rathaus run giessen/unterhaltsvorschuss` (about an hour); `make test` runs a short one
crashtest: setup
	$(VENV)/python benchmarks/crashtest.py --kills 100

docs: setup
	$(VENV)/python scripts/libdoc.py docs/keywords

robot-yaml: setup
	$(VENV)/python scripts/robot_yaml.py

clean:
	rm -rf output var build *.egg-info
