# newsbeam: every target installs what it needs into .venv from the hashed lock file.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= demo-output

.PHONY: install demo test test-all test-slow lint eval bench lock clean

$(STAMP): requirements.lock setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_OUT)
	$(BIN)/newsbeam run examples --output $(DEMO_OUT)
	@echo "Top actors of ASSAULT events in the US (a README example query):"
	$(BIN)/newsbeam query $(DEMO_OUT) "SELECT coalesce(actor_canonical, actor) AS actor, count(*) AS events, count(DISTINCT article_id) AS articles, string_agg(DISTINCT recipient_canonical, '; ') AS against FROM events WHERE event_type = 'ASSAULT' AND country_code = 'US' AND coalesce(actor_canonical, actor) IS NOT NULL GROUP BY 1 ORDER BY events DESC, actor LIMIT 10"

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m "slow or not slow"

# Only the tests marked slow (CI runs make test, then this: together they are make test-all).
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

# ruff (pyflakes, pycodestyle, isort, bugbear) and mypy (strict for transforms.storage and .fetch), as configured in pyproject.toml
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench.py

eval: $(STAMP)
	$(BIN)/python eval/eval_entities.py
	$(BIN)/python eval/eval_events.py
	$(BIN)/python eval/eval_audit.py
	$(BIN)/python eval/eval_reports.py
	$(BIN)/python eval/eval_stories.py

# Re-pin every dependency with hashes after changing setup.py (needs the package registry).
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --extra dev --strip-extras -o requirements.lock setup.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) build *.egg-info .pytest_cache
