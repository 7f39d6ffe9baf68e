# The few commands people use. `make help` lists them.
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: help setup run test check smoke bench

help:  ## list the commands
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

setup: $(PY)  ## install the hotline and its development tools into .venv
	$(PY) -m pip install --quiet -e ".[dev]"

# The default locale's speech model is downloaded when none is there; without a network this
# says so in one line and the hotline starts anyway (cases keep their recordings untranscribed).
run: setup  ## set up (and the default locale's speech model), then serve web + worker + beat on SQLite
	$(VENV)/bin/hotline speech install "$${HOTLINE_DEFAULT_LOCALE:-zh-CN}" --if-missing
	$(VENV)/bin/hotline run --host $(HOST) --port $(PORT)

# Two runs: everything on SQLite, then the tests that use a database again on PostgreSQL. Both
# run even when the first fails; either failing, or finding no test (pytest's 5), fails `make test`.
test: setup  ## run the whole test suite (starts local PostgreSQL/Redis if needed)
	./scripts/services.sh
	./scripts/chromium.sh
	status=0; \
	$(PY) -m pytest --database sqlite || status=$$?; \
	$(PY) -m pytest --database postgresql || status=$$?; \
	exit $$status

check: setup  ## lint, format check, type check and the direction of imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

smoke:  ## install as production does (no dev extras) and run web, worker, beat on Redis and RabbitMQ
	./scripts/production_smoke.sh

bench: setup  ## run the benchmarks and print their figures
	$(PY) benchmarks/prompt_seconds.py
	$(PY) benchmarks/transcription.py
	$(PY) benchmarks/webhooks.py
	$(PY) benchmarks/inbox.py
	$(PY) benchmarks/dispatch.py --backend both
