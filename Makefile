# The two commands: `make run` and `make test`. Everything else is for them.
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
MANAGE := $(VENV)/bin/python manage.py
# Never let uv fetch an interpreter: use the machine's Python 3.11+.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint audit install migrate check clean help

help:
	@echo "make run    serve the API on http://$(HOST):$(PORT) with demo data"
	@echo "make test   run the whole test suite"
	@echo "make lint   ruff (style and security rules) and mypy"
	@echo "make audit  check the locked dependencies for known vulnerabilities"

# uv itself is installed from a hash-pinned requirements file; every
# dependency after that comes from uv.lock, whose hashes uv verifies.
$(UV): requirements/bootstrap.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required (PYTHON=$(PYTHON))." >&2; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check \
		--require-hashes --only-binary :all: -r requirements/bootstrap.txt
	@touch $(UV)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced

run: export DJANGO_ENV = development
run: install
	@$(MANAGE) migrate --no-input -v 0
	@mkdir -p var && if [ ! -s var/demo-credentials.txt ]; then \
		umask 077 && $(MANAGE) seed_demo > var/demo-credentials.txt; fi
	@$(MANAGE) check --database default --fail-level ERROR > /dev/null
	@token=$$($(MANAGE) issue_token --user alice --scope "read write" --expires 3600 2>/dev/null); \
	echo; \
	echo "  API docs     http://$(HOST):$(PORT)/api/docs/  (Authorize: client demo-spa)"; \
	echo "  Redoc        http://$(HOST):$(PORT)/api/redoc/"; \
	echo "  Admin        http://$(HOST):$(PORT)/admin/  (createsuperuser for an account)"; \
	echo "  Demo users   alice (acme owner), bob (acme admin), carol (acme member),"; \
	echo "               dave (acme viewer), erin (globex owner)"; \
	echo "  Credentials  printed once at seeding, kept in var/demo-credentials.txt:"; \
	sed 's/^/                 /' var/demo-credentials.txt; \
	echo "  Try it       curl -H 'Authorization: Bearer $$token' http://$(HOST):$(PORT)/api/v1/projects/"; \
	echo
	$(MANAGE) runserver $(HOST):$(PORT)

test: export DJANGO_ENV = test
test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: export DJANGO_ENV = test
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(MANAGE) makemigrations --check --dry-run -v 1
	$(VENV)/bin/hadolint docker/Dockerfile
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker/compose.yaml

audit: install
	@bash scripts/audit.sh

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
