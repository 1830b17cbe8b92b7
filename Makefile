# soundscraping — every command installs what it needs first.
#   make crawl ARTISTS="a,b"   the main job (SoundCloud artists)
#   make test                  the test suite, all three layers (starts PostgreSQL/Redis if down)
#   make test-fast             the unit layer only: no services, no browser (under 30 s)
#   make install               crawler + map + analysis + dev tooling from requirements-dev.txt (hash-checked)
#   make install-crawler       the crawler only, from requirements.txt (crawler hosts, Scrapyd nodes)
#   make lock                  rewrite both locks from pyproject.toml (LOCK_ARGS=--upgrade to move pins)
#   make eval-sentiment        sentiment accuracy/macro-F1, plain VADER vs the music model
#   make eval-stem-names       Cambridge-MT stem naming accuracy (dev / held-out)
#   make bench-audio           audio-features and cmt-postprocess benchmarks
#   make bench-export          soundscraping export: the make-bench dataset and 5 M interactions to Parquet
#   make bench-distributed     1, 2, 4 graph workers sharing one Redis frontier: accounts/min, scaling
#   make bench-monitoring      what monitoring (spidermon, item validation) costs a crawl
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ARTISTS ?=
SCRAPY_ARGS ?=

.PHONY: install install-crawler lock chromium services crawl test test-fast demo bench bench-resume bench-map bench-graph bench-distributed \
	eval-sentiment bench-sentiment eval-stem-names bench-audio bench-export bench-monitoring lint deploy clean

install: $(VENV)/.installed

# Everything (tests need the map, analysis and audio stacks: tests/test_map_e2e.py,
# tests/test_analysis_sentiment_e2e.py, tests/test_beatport_audio_e2e.py),
# exact versions with hashes.
$(VENV)/.installed: requirements-dev.txt pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

install-crawler: $(VENV)/.installed-crawler

# Only [project] dependencies: no map stack (~650 MB), no analysis or audio stack, no test or deploy tooling.
$(VENV)/.installed-crawler: requirements.txt pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# The locks are written by uv (pinned in the dev extra) from pyproject.toml: one resolution of
# everything, then the crawler's subset constrained to the same versions.  Universal: valid on
# any OS and Python >= 3.11, with hashes of every published file.  Existing pins are kept unless
# LOCK_ARGS says otherwise (--upgrade, --upgrade-package NAME).
LOCK_ARGS ?=
LOCK_FLAGS := --generate-hashes --universal --python-version 3.11 --custom-compile-command "make lock" $(LOCK_ARGS)
lock: install
	$(VENV)/bin/uv pip compile -q pyproject.toml --extra map --extra analysis --extra audio --extra export --extra alerts --extra dev $(LOCK_FLAGS) -o requirements-dev.txt
	$(VENV)/bin/uv pip compile -q pyproject.toml $(LOCK_FLAGS) -c requirements-dev.txt -o requirements.txt

# Debian's Chromium for scrapy-playwright (Playwright cannot download its own here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium (needs root)..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  echo "Starting PostgreSQL..."; pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	  for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done; }
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || { \
	  echo "Starting Redis..."; redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no; \
	  for i in $$(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done; }

crawl: install-crawler chromium
	@test -n "$(ARTISTS)" || { echo 'usage: make crawl ARTISTS="permalink,Display Name,https://soundcloud.com/x"'; exit 2; }
	$(VENV)/bin/scrapy crawl soundcloud_artists -a artists="$(ARTISTS)" $(SCRAPY_ARGS)

# Layers (markers from the file names, see pyproject.toml): unit, replica, e2e.
test: install chromium services
	$(PY) -m pytest -q -n 2 --dist loadgroup --durations=15

# Only the unit files are collected: collecting the e2e files imports their stacks (~5 s).
test-fast: install
	$(PY) -m pytest -q -m unit $(wildcard tests/test_*_unit.py)

demo: install chromium
	$(PY) scripts/demo.py

bench: install services
	$(PY) scripts/bench_artists.py

bench-resume: install services
	$(PY) scripts/bench_resume.py

bench-map: install services
	$(PY) scripts/bench_map.py

bench-graph: install services
	$(PY) scripts/bench_graph.py

# soundcloud_graph with 1, 2 and 4 workers on one Redis frontier (each at its own request budget).
bench-distributed: install services
	$(PY) scripts/bench_distributed.py

bench-monitoring: install
	$(PY) scripts/bench_monitoring.py

# Plain VADER vs the music model on tests/fixtures/sentiment (accuracy, macro-F1; dev and held-out test).
eval-sentiment: install
	$(PY) scripts/eval_sentiment.py

bench-sentiment: install services
	$(PY) scripts/bench_sentiment.py

# Stem naming accuracy on the hand-labelled real names (dev / held-out) and the unplaced names.
eval-stem-names: install
	$(PY) scripts/eval_stem_names.py

# audio-features on 100 two-minute previews; cmt-postprocess on a 1 GB multitrack.
bench-audio: install
	$(PY) scripts/bench_audio.py previews
	$(PY) scripts/bench_audio.py multitrack

# The make-bench dataset (~316,000 rows) and 5 M interactions to Parquet: seconds and peak RSS.
bench-export: install services
	$(PY) scripts/bench_export.py

lint: install
	$(VENV)/bin/ruff check .

# Credentials from the environment only (scrapy.cfg expands them); empty ones send no auth header.
deploy: install
	@test -n "$$SCRAPYD_URL" || { echo "make deploy: error: set SCRAPYD_URL (e.g. http://127.0.0.1:6800/) and, for a Scrapyd with basic auth, SCRAPYD_USERNAME and SCRAPYD_PASSWORD" >&2; exit 2; }
	SCRAPYD_USERNAME="$${SCRAPYD_USERNAME-}" SCRAPYD_PASSWORD="$${SCRAPYD_PASSWORD-}" $(VENV)/bin/scrapyd-deploy -p soundscraping

clean:
	rm -rf build dist *.egg-info .pytest_cache
