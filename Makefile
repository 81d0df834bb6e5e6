# Aftersale: the two set-up commands are `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DEPS   := $(VENV)/.deps-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
DEVDEPS := $(VENV)/.devdeps-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: demo test bench install dovecot clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Aftersale needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(DEPS): $(PY) requirements.txt
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(DEVDEPS): $(PY) requirements.txt requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

install: $(DEPS)

# Runs the daemon once on the embedded default: a fresh sample Maildir, no server needed.
demo: $(DEPS)
	rm -rf demo
	$(PY) run.py init demo
	$(PY) run.py --config demo/aftersale.toml once

# Installs what the tests need (Dovecot for the IMAP tests when we are root with apt) and runs them.
test: $(DEVDEPS) dovecot
	$(PY) -m pytest -q

dovecot:
	@if command -v dovecot >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing dovecot-imapd for the IMAP tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; \
	else \
		echo "dovecot is not installed and cannot be installed here (needs root and apt-get): IMAP tests will be skipped, or fail under CI=true"; \
	fi

bench: $(DEVDEPS)
	$(PY) bench/bench_classifier.py
	$(PY) bench/bench_store.py
	$(PY) bench/bench_backlog.py

clean:
	rm -rf $(VENV) demo .pytest_cache .hypothesis
