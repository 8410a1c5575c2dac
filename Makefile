# Songwright: `make demo` renders a song from examples/, `make test` runs the tests.
# Both set up what they need on a fresh Debian machine (apt-get packages, a .venv).
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
TSTAMP  := $(VENV)/.installed-test
APT_PKGS := fluidsynth libfluidsynth3 fluid-soundfont-gm espeak-ng
TEST_APT_PKGS := chromium chromium-driver
EXTRAS  := test,quality,neural,studio,ray
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test setup system-deps test-deps apt clean bench

demo: setup
	$(VENV)/bin/songwright render examples/pop.yaml -o out/demo

test: setup test-deps $(TSTAMP)
	$(VPY) -m pytest

bench: setup
	$(VPY) benchmarks/render_speed.py

setup: system-deps $(STAMP)

system-deps:
	@$(MAKE) --no-print-directory apt PKGS="$(APT_PKGS)"

test-deps:
	@$(MAKE) --no-print-directory apt PKGS="$(TEST_APT_PKGS)"

apt:
	@if ! dpkg -s $(PKGS) >/dev/null 2>&1; then \
	  echo "installing Debian packages: $(PKGS)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(PKGS); \
	fi

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip 'setuptools<81' wheel
	$(VPY) -m pip install -q -e .
	touch $(STAMP)

# tests also need the judges (speech recognition, speaker similarity), the neural backends'
# tiny models, the studio's browser driver and ray
$(TSTAMP): $(STAMP) pyproject.toml
	$(VPY) -m pip install -q -e '.[$(EXTRAS)]'
	$(VPY) -m pip install -q 'setuptools<81'
	touch $(TSTAMP)

clean:
	rm -rf out .pytest_cache
