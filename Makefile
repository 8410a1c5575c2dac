# Songwright: `make demo` renders a song from examples/, `make test` runs the tests.
# Both set up what they need on a fresh Debian machine (apt-get packages, a .venv).
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
APT_PKGS := fluidsynth libfluidsynth3 fluid-soundfont-gm espeak-ng
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test setup system-deps clean bench

demo: setup
	$(VENV)/bin/songwright render examples/pop.yaml -o out/demo

test: setup
	$(VPY) -m pytest

bench: setup
	$(VPY) benchmarks/render_speed.py

setup: system-deps $(STAMP)

system-deps:
	@if ! dpkg -s $(APT_PKGS) >/dev/null 2>&1; then \
	  echo "installing Debian packages: $(APT_PKGS)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PKGS); \
	fi

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip 'setuptools<81' wheel
	$(VPY) -m pip install -q -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf out .pytest_cache
