# The two commands a new user needs: `make demo` and `make test`.
# Both bootstrap .venv from nothing (idempotent; quick once done).
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.bootstrapped

.PHONY: demo lint test bootstrap clean

$(STAMP): pyproject.toml scripts/bootstrap.sh
	@PY=$(PY) bash scripts/bootstrap.sh

bootstrap: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/endfraud demo

# Lint and types first: they fail in seconds, before the suite's minutes.
# (Configuration: [tool.ruff] and [tool.mypy] in pyproject.toml.)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .data .mypy_cache .ruff_cache
