# The project's commands. `make demo` and `make test` are the two a newcomer needs; both bootstrap first.
# Every tool is pinned: Python packages in requirements*.txt (+ constraints.txt), the CDK CLI in
# package-lock.json, cfn-guard by version below, Rust crates in auditor/Cargo.lock.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ENV_SUFFIX ?= dev
# make deploy refuses an empty ALERT_EMAIL; ALERT_EMAIL=none deploys without e-mail on purpose.
ALERT_EMAIL ?=
# make destroy asks for the stack name; CONFIRM=ComplianceAudit-<suffix> answers without a terminal.
CONFIRM ?=
CDK_ARGS ?=
NOTE ?= on-demand report
DEMO_SUFFIX ?= demo
# make demo ORG=1: the organization shape (demo/organization.py), with the example settings below.
ORG ?=
# single (one account, the default) or organization (README, Organization). The organization shape's
# settings below are examples, so `make validate SHAPE=organization` synthesizes; a deploy sets its own.
SHAPE ?= single
EVIDENCE_ACCOUNT ?= 111111111111
ORGANIZATION_ID ?= o-exampleorg1
TARGET_OUS ?= ou-exam-pleunit1
DEPLOYMENT_REGIONS ?= us-east-1,eu-west-1
ORGANIZATION_ACCOUNTS ?= 111111111111,222222222222,333333333333

PYTHON ?= python3
PYTHON39 ?= $(shell pyenv prefix 3.9.18 2>/dev/null || true)/bin/python
VENV := .venv
VENV39 := .venv39
PY := $(VENV)/bin/python
PY39 := $(VENV39)/bin/python
CDK := node_modules/.bin/cdk
GUARD_VERSION := 3.2.1
GUARD := .tools/bin/cfn-guard
CARGO ?= cargo
# The demo and the end-to-end tests use the debug build: it shares its compiled dependencies with
# `cargo test`, so CI compiles the AWS SDK once. `make bench-auditor` builds --release for itself.
AUDITOR := auditor/target/debug/auditor
RUNTIME := lib/report_generator/runtime
FORMATTER_RUNTIME := lib/alert_formatter/runtime

export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
export AWS_REGION ?= us-east-1

ORG_CONTEXT = -c deployment=organization -c evidenceAccount=$(EVIDENCE_ACCOUNT) \
	-c organizationId=$(ORGANIZATION_ID) -c targetOrganizationalUnits=$(TARGET_OUS) \
	-c deploymentRegions=$(DEPLOYMENT_REGIONS) -c organizationAccounts=$(ORGANIZATION_ACCOUNTS)
CONTEXT = -c environmentSuffix=$(ENV_SUFFIX) $(if $(ALERT_EMAIL),-c alertEmail=$(ALERT_EMAIL),) \
	$(if $(filter organization,$(SHAPE)),$(ORG_CONTEXT),) $(CDK_ARGS)
STACK = ComplianceAudit-$(ENV_SUFFIX)
TEMPLATE = cdk.out/$(STACK).template.json
# The operator commands (scripts/*.py) run as modules from the checkout, so they share
# scripts/deployment.py; each failure is one line on stderr (`error: ...`), never a traceback.
OPS = $(PY) -m scripts
PREFLIGHT = $(OPS).preflight --suffix $(ENV_SUFFIX) -- $(CONTEXT)

.PHONY: help bootstrap auditor synth validate report-now test test-python test-e2e test-py39 test-rust lint lint-python fmt deploy destroy demo \
	bench-report bench-auditor bench-org clean preflight diff outputs status publish-member-assets

# Every rule with a lowercase name is a command and is listed, with the text after its `## `;
# tests/scripts/test_makefile.py fails for a command without one, or one missing from .PHONY.
help: ## list the targets
	@awk '/^[a-z0-9-]+:/ { name = $$1; sub(/:.*/, "", name); at = index($$0, "## "); \
		printf "  make %-15s %s\n", name, at ? substr($$0, at + 3) : "(no description)" }' $(MAKEFILE_LIST)

# ---- bootstrap: idempotent; each stamp is rebuilt only when its pin file changes -------------------------
bootstrap: $(VENV)/.installed $(VENV39)/.installed node_modules/.installed $(GUARD) ## install pinned toolchains

$(VENV)/.installed: requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

$(VENV39)/.installed: requirements-py39.txt
	@test -x "$(PYTHON39)" || { echo "error: CPython 3.9 not found at $(PYTHON39); install it (pyenv install 3.9.18) or pass PYTHON39=/path/to/python3.9" >&2; exit 2; }
	$(PYTHON39) -m venv $(VENV39)
	$(PY39) -m pip install --quiet --disable-pip-version-check -r requirements-py39.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(GUARD):
	$(CARGO) install cfn-guard --version $(GUARD_VERSION) --locked --root .tools --quiet

# ---- the CDK app ---------------------------------------------------------------------------------------
synth: bootstrap ## synthesize: make synth ENV_SUFFIX=x writes cdk.out/ComplianceAudit-x.template.json
	$(CDK) synth $(CONTEXT) --quiet --output cdk.out > /dev/null
	@echo "wrote $(if $(filter organization,$(SHAPE)),the organization's templates in cdk.out,$(TEMPLATE))"

validate: synth ## cfn-lint, cfn-guard, cdk-nag, IAM lint of the synthesized templates: make validate [SHAPE=organization]
	$(PY) scripts/validate.py $(if $(filter organization,$(SHAPE)),--assembly cdk.out,--template $(TEMPLATE)) --guard $(GUARD)

preflight: bootstrap ## deploy's checks alone: ALERT_EMAIL set (or =none), credentials, an existing Config recorder
	@$(PREFLIGHT)

deploy: bootstrap ## preflight, then synth and deploy: make deploy ENV_SUFFIX=x ALERT_EMAIL=team@example.com
	@$(PREFLIGHT)
	@$(MAKE) --no-print-directory synth
	$(CDK) deploy $(CONTEXT) --app cdk.out --require-approval broadening $(STACK)

diff: bootstrap ## what make deploy would change in the deployed stack (cdk diff)
	@$(OPS).deployment --suffix $(ENV_SUFFIX)
	$(CDK) diff $(CONTEXT) $(STACK)

outputs: bootstrap ## the deployed stack's report bucket, alert topic, request queue and function
	@$(OPS).outputs --suffix $(ENV_SUFFIX)

status: bootstrap ## the newest report's summary and what changed since the one before, via the auditor
	@test -x $(AUDITOR) || $(MAKE) --no-print-directory auditor
	@$(OPS).status --suffix $(ENV_SUFFIX) --auditor $(AUDITOR)

report-now: bootstrap ## ask the deployed stack for a report now, and say where it will appear: NOTE="why"
	@$(OPS).request_report --suffix $(ENV_SUFFIX) --note "$(NOTE)"

# EXECUTE=1 uploads; without it the command prints what it would upload (README, Organization).
EXECUTE ?=
publish-member-assets: bootstrap ## the member part's Lambda code to every StackSet region's asset bucket (dry run; EXECUTE=1 uploads)
	@$(OPS).publish_member_assets --suffix $(ENV_SUFFIX) --assembly cdk.out $(if $(EXECUTE),--execute,)

destroy: bootstrap ## show what goes, ask for the stack name (or CONFIRM=), empty, delete; keeps a locked bucket
	@$(OPS).destroy --suffix $(ENV_SUFFIX) --confirm "$(CONFIRM)"

# ---- checks --------------------------------------------------------------------------------------------
test: bootstrap ## every check: lint, unit, policies, py3.9 runtime, emulator, Rust, end to end
	$(MAKE) --no-print-directory lint-python
	$(MAKE) --no-print-directory validate ALERT_EMAIL=none
	@# The Rust build is CPU-bound and the emulator tests mostly wait on sockets and injected latency,
	@# so the two run side by side; each one's output is printed whole when it finishes.
	$(MAKE) --no-print-directory -j2 --output-sync=target test-rust test-python
	$(MAKE) --no-print-directory test-e2e
	$(MAKE) --no-print-directory test-py39

test-python: bootstrap ## Python tests on the development Python: CDK, policies, emulator, runtime, integration
	$(PY) -m pytest -q -n 2 tests --ignore=tests/e2e --ignore=tests/scripts/test_status.py \
		--ignore=tests/organization/test_athena_queries.py --ignore=tests/integration/test_exceptions.py

# make status, the Athena SQL and the exceptions trail are checked through the auditor, so their tests
# run here, where the auditor is built.
test-e2e: bootstrap auditor ## a shortened demo, the report in headless Chromium, make status, Athena SQL vs auditor
	AUDITOR_BINARY=$(CURDIR)/$(AUDITOR) $(PY) -m pytest -q -n 2 tests/e2e tests/scripts/test_status.py \
		tests/organization/test_athena_queries.py tests/integration/test_exceptions.py

test-py39: bootstrap ## the Lambda runtime's tests on CPython 3.9, the deployed runtime
	$(PY39) -m pytest -q -p no:cacheprovider tests/runtime tests/alert_formatter tests/integration

test-rust: bootstrap ## rustfmt, clippy -D warnings, cargo test
	cd auditor && $(CARGO) fmt --check
	+cd auditor && $(CARGO) clippy --locked --quiet --all-targets -- -D warnings
	+cd auditor && $(CARGO) test --locked --quiet

# mypy runs twice because the two halves run on different Pythons: the CDK app as [tool.mypy] in
# pyproject.toml says (3.11), the Lambda runtime as python3.9, with its folder as the import root.
lint-python: bootstrap ## ruff (format + check); mypy --strict on the CDK app, scripts/ and both Lambda runtimes
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	MYPYPATH=$(RUNTIME) $(VENV)/bin/mypy --strict --python-version 3.9 --explicit-package-bases $(RUNTIME)
	MYPYPATH=$(FORMATTER_RUNTIME) $(VENV)/bin/mypy --strict --python-version 3.9 --explicit-package-bases $(FORMATTER_RUNTIME)

lint: lint-python ## lint-python, rustfmt, clippy
	cd auditor && $(CARGO) fmt --check && $(CARGO) clippy --locked --quiet --all-targets -- -D warnings

fmt: bootstrap ## ruff format and the fixes ruff can make, rustfmt
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
	cd auditor && $(CARGO) fmt

# ---- demo and benchmarks -------------------------------------------------------------------------------
auditor: bootstrap ## build the auditor CLI (auditor/target/debug/auditor)
	cd auditor && $(CARGO) build --locked --quiet

demo: bootstrap auditor ## the platform end to end on this machine, no AWS account needed; ORG=1: an organization
ifeq ($(ORG),)
	$(MAKE) --no-print-directory validate ENV_SUFFIX=$(DEMO_SUFFIX) ALERT_EMAIL=none
	$(PY) -m demo.run --out demo-output --suffix $(DEMO_SUFFIX) --auditor $(AUDITOR)
else
	$(MAKE) --no-print-directory validate SHAPE=organization ENV_SUFFIX=$(DEMO_SUFFIX) ALERT_EMAIL=none
	$(PY) -m demo.organization --out demo-output/org --suffix $(DEMO_SUFFIX) --auditor $(AUDITOR) \
		--assembly cdk.out
endif

bench-report: bootstrap ## report generator: API calls, wall time and memory for 10,000 findings
	$(PY) benchmarks/bench_report.py

bench-auditor: bootstrap ## auditor: 7 years of daily reports, verify and timeline throughput
	$(PY) benchmarks/bench_auditor.py

bench-org: bootstrap ## auditor on an organization: 500 accounts x 3 regions x 30 days, throughput and memory
	$(PY) benchmarks/bench_org.py

clean: ## remove what builds and runs leave: cdk.out, demo-output, .bench, auditor/target
	rm -rf cdk.out demo-output .bench auditor/target
