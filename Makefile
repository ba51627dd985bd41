# carbon-labs: every target installs the npm dependencies it needs when they are missing.
PATTERN ?= 3
PRODUCT ?= auto
# NAME=a: a named lab (its own project, subnets and ports); it remembers its pattern and product,
# so PATTERN is passed on only when given.
# WORKERS=1..5, MANAGERS=1|2 (as the pattern allows): the lab's size, passed on only when given
# (default: the pattern's own; a lab remembers its size).
# PACE=jvm (a stand-in at a JVM's pace: WSO2's boot times, the real product's timing), BOOT_S=N
# (every boot N s): passed on only when given (a lab remembers its pace).
LAB = $(if $(NAME),--name $(NAME) $(if $(filter-out file default undefined,$(origin PATTERN)),--pattern $(PATTERN)),--pattern $(PATTERN)) --product $(PRODUCT)$(if $(WORKERS), --workers $(WORKERS))$(if $(MANAGERS), --managers $(MANAGERS))$(if $(PACE), --pace $(PACE))$(if $(BOOT_S), --boot-seconds $(BOOT_S))
# CHECK=managers-fail-over (or several, comma-separated): only those checks.
CHECK_ARGS = $(if $(CHECK), --check $(CHECK))$(if $(PARALLEL), --parallel $(PARALLEL))
# TARGET=swarm: the lab as a Docker Swarm stack (make swarm makes this machine a one-node swarm);
# PUBLISH=1 also publishes a stack's listeners on the nodes' interfaces.
TARGET ?= compose
TARGET_ARGS = --target $(TARGET)$(if $(PUBLISH), --publish)
NODE_BIN := node_modules/.bin
# HOSTS=N (after make swarm HOSTS=N): the CLI runs on host-1 of those engines (docs/swarm.md).
CLI_HERE := CARBON_LABS_VIA_MAKE=1 node dist/generator/cli.js
CLI := $(if $(HOSTS),CARBON_LABS_VIA_MAKE=1 bash scripts/swarm-hosts.sh run,$(CLI_HERE))
TS_SOURCES := $(shell find generator harness sim/src -name '*.ts' 2>/dev/null) $(wildcard generator/templates/* nginx/*.ejs)

.PHONY: lint format help swarm swarm-down reserve-ports lab down down-all stop start export-lab results status list logs generate labs images test test-unit conformance selftest bench clean check-labs engine

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

dist/.built: node_modules/.package-lock.json $(TS_SOURCES) tsconfig.json
	$(NODE_BIN)/tsc -p tsconfig.json
	$(NODE_BIN)/esbuild sim/src/main.ts --bundle --platform=node --target=node18 --outfile=dist/sim/sim.js --log-level=warning
	@touch $@

engine: ## bring up a Docker engine with Compose v2 when none answers (root on Debian/Ubuntu)
	@bash scripts/ensure-docker.sh

lab: dist/.built engine ## PATTERN=1|2|3 [PRODUCT=apim-4.3.0|sim|apim-4.5.0|sim-apim-4.5.0|apim-4.7.0|sim-apim-4.7.0|apim-2.6.0] [PACE=jvm [BOOT_S=N]] [NAME=a] [WORKERS=1-5] [MANAGERS=1|2] [TARGET=compose|swarm] [PUBLISH=1]: generate, start, wait until healthy, print URLs
	@$(CLI) up $(LAB) $(TARGET_ARGS)

swarm: engine ## make this machine a single-node Docker swarm and label its node for every role (for TARGET=swarm); HOSTS=3: three engines in containers here, one swarm, managers, workers and the database on three nodes (docs/swarm.md)
ifdef HOSTS
	@bash scripts/swarm-hosts.sh up $(HOSTS)
else
	@docker info --format '{{.Swarm.LocalNodeState}}' | grep -qx active || docker swarm init --advertise-addr 127.0.0.1 >/dev/null
	@docker node update --label-add carbon-labs.role.manager=true --label-add carbon-labs.role.worker=true --label-add carbon-labs.db=true "$$(docker info --format '{{.Swarm.NodeID}}')" >/dev/null
	@echo "carbon-labs: this machine is a one-node swarm, labelled carbon-labs.role.manager, carbon-labs.role.worker and carbon-labs.db: make lab TARGET=swarm" >&2
endif

swarm-down: ## remove the engines make swarm HOSTS=N started (their containers, volumes, network; nothing else)
	@bash scripts/swarm-hosts.sh down

down: dist/.built ## PATTERN=1|2|3 [PRODUCT=...]: stop and remove the lab
	@$(CLI) down $(LAB)

stop: dist/.built ## PATTERN=1|2|3 [PRODUCT=...]: stop the lab and keep it (containers, networks, database volume)
	@$(CLI) stop $(LAB)

start: dist/.built engine ## PATTERN=1|2|3 [PRODUCT=...]: start a stopped lab again, wait until healthy, print URLs
	@$(CLI) start $(LAB)

status: dist/.built ## PATTERN=1|2|3 [PRODUCT=...]: state of each service, and URLs (exit 1 unless healthy)
	@$(CLI) status $(LAB)

down-all: dist/.built ## stop and remove every carbon-labs lab on this Docker engine
	@$(CLI) down --all

list: dist/.built ## every carbon-labs lab on this Docker engine: pattern, product, state, URLs
	@$(CLI) list

logs: dist/.built ## PATTERN=1|2|3 [PRODUCT=...] [SERVICE=manager-1]: the lab's logs (last 200 lines per service)
	@$(CLI) logs $(LAB) $(SERVICE)

export-lab: dist/.built engine ## PATTERN=1|2|3 [PRODUCT=...] [DIR=d]: every container's log and inspect, the lab folder (no private keys) and its last reports, as one tarball
	@$(CLI) export $(LAB) $(DIR)

generate: dist/.built ## PATTERN=1|2|3 [PRODUCT=...] [WORKERS=1-5] [MANAGERS=1|2]: write the lab folder only
	@$(CLI_HERE) generate $(LAB)

labs: dist/.built ## regenerate every lab committed under labs/
	@$(CLI_HERE) generate --all

reserve-ports: dist/.built ## keep the labs' host ports out of the ports Linux gives outgoing connections (root; make test does it): labs side by side never find one held
	@$(CLI_HERE) reserve-ports

images: dist/.built engine ## [PRODUCT=auto|sim|sim-apim-4.5.0|sim-apim-4.7.0|apim-…]: build the stand-in's images (or pull the product's; auto as for a lab), and offline NGINX/DB images when no registry answers
	@$(CLI_HERE) images --product $(PRODUCT) --rebuild

JEST := JEST_JUNIT_OUTPUT_DIR=reports $(NODE_BIN)/jest
# The seeded faults `make test` also runs on swarm stacks (make selftest TARGET=swarm runs every one that applies).
SWARM_SELFTEST := manager-on-public,balancer-without-re-resolution

# Prettier (140 columns, .prettierrc.json) checks the layout, ESLint the rest.
FORMATTED := 'generator/**/*.ts' 'harness/**/*.ts' 'sim/src/**/*.ts' 'tests/**/*.ts' '*.mjs' jest.config.js
LINT := $(NODE_BIN)/prettier --check --log-level warn $(FORMATTED) && $(NODE_BIN)/eslint generator harness sim/src tests

lint: node_modules/.package-lock.json ## Prettier's layout check, then ESLint (recommended TypeScript rules, and no floating or misused promises) on every source and test
	$(LINT)

format: node_modules/.package-lock.json ## lay out every source and test as Prettier does (make lint checks it)
	$(NODE_BIN)/prettier --write --log-level warn $(FORMATTED)

# The legs of `make test` (scripts/legs.sh: lanes side by side, a table of each leg's wall time
# and how busy the CPUs were). Four lanes in one step, the Docker tests beside the self-test, were
# measured too (1334 and 1263 s of lanes against 1235 for these two steps): the gate, then the CPU
# (81 % busy) bound them, and the Docker tests' starts waited behind the checks.
# The checks (types, lint, unit tests, labs drift) alone first: beside the Docker tests, the CPU
# they take made a unit test's fake-DNS reload and a wiring test's broker reconnect miss their
# deadlines. Then the Docker tests, split in three legs side by side (their figures are
# functional: statuses, bodies, logs; their starts take the gate's shares). Then the self-test beside the conformance
# legs: every start and check takes a share of the machine (harness/gate.ts: one per core; a lab
# under a check's load keeps less than one busy), so at most two labs are started or checked at
# once, and `admin-load-isolation` (a saturating load) runs alone. Each leg takes its named slots
# from a range of its own (CARBON_LABS_SLOTS); each failover variant runs once here (every variant
# still runs; the nightly runs each three times). A stack's conformance is the nightly's (pattern 3
# of each stand-in as a stack); here the swarm Docker test and two seeded faults on stacks prove
# the target. Pattern 1's checks run at a JVM's pace (jvm-pace), a harder run than the stand-in's.
# The self-test in two legs: the classic product's faults after the conformance legs of lane b
# (their slots are the Docker tests', which are done by then), the others in lane a.
CLASSIC_SIM := sim-apim-2.6.0
# Every grant and release of the machine gate while the Docker legs run (harness/gate-usage.ts sums it up after the table).
GATE_TRACE := $(CURDIR)/reports/legs/gate.jsonl
DOCKER_TESTS_1 := tests/docker/wiring.test.ts tests/docker/products.test.ts
DOCKER_TESTS_2 := tests/docker/named-labs.test.ts tests/docker/swarm.test.ts tests/docker/jwks.test.ts
# Three engines of their own (make swarm HOSTS=3): after the self-test in lane a, which ends first.
HOSTS_TEST := tests/docker/swarm-hosts.test.ts
DOCKER_TESTS_3 := $(filter-out tests/docker/selftest.test.ts $(HOSTS_TEST) $(DOCKER_TESTS_1) $(DOCKER_TESTS_2),$(wildcard tests/docker/*.test.ts))
DOCKER_LEG = CARBON_LABS_SLOTS=$(1) JEST_JUNIT_OUTPUT_NAME=junit-docker-$(2).xml $(JEST) --selectProjects docker --runInBand $(3)
SELFTEST = JEST_JUNIT_OUTPUT_NAME=junit-selftest$(1).xml $(JEST) --selectProjects docker --runInBand tests/docker/selftest.test.ts
CHECKS_LEG = 'a:checks=$(NODE_BIN)/tsc -p tsconfig.tests.json && $(LINT) && JEST_JUNIT_OUTPUT_NAME=junit-unit.xml $(JEST) --selectProjects unit && $(MAKE) --no-print-directory check-labs'
DOCKER_TEST_LEGS = \
  'a:docker-1=$(call DOCKER_LEG,26-28,1,$(DOCKER_TESTS_1))' \
  'b:docker-2=$(call DOCKER_LEG,29-31,2,$(DOCKER_TESTS_2))' \
  'c:docker-3=$(call DOCKER_LEG,32-33,3,$(DOCKER_TESTS_3))'
TEST_LEGS = \
  'a:selftest=CARBON_LABS_SLOTS=34-41 CARBON_LABS_SELFTEST_PRODUCTS=!$(CLASSIC_SIM) $(call SELFTEST,)' \
  'a:swarm-hosts=JEST_JUNIT_OUTPUT_NAME=junit-swarm-hosts.xml $(JEST) --selectProjects docker --runInBand $(HOSTS_TEST)' \
  'b:conformance=CARBON_LABS_FAILOVER_RUNS=1 $(CLI_HERE) conformance --pattern 2,3 --product sim' \
  'b:conformance-4.7=CARBON_LABS_FAILOVER_RUNS=1 $(CLI_HERE) conformance --pattern 3 --product sim-apim-4.7.0' \
  'b:selftest-classic=CARBON_LABS_SLOTS=26-31 CARBON_LABS_SELFTEST_PRODUCTS=$(CLASSIC_SIM) $(call SELFTEST,-classic)' \
  'c:selftest-swarm=CARBON_LABS_SLOTS=42-44 CARBON_LABS_TARGET=swarm CARBON_LABS_SELFTEST_FAULTS=$(SWARM_SELFTEST) $(call SELFTEST,-swarm)' \
  'c:conformance-2.6=CARBON_LABS_FAILOVER_RUNS=1 $(CLI_HERE) conformance --pattern 3 --product sim-apim-2.6.0' \
  'c:jvm-pace=CARBON_LABS_SLOTS=24-25 $(CLI_HERE) conformance --name jvmpace --pattern 1 --product sim --pace jvm --boot-seconds 20'

test: dist/.built ## type-check (tests too), lint, unit + real-tool tests, labs drift; then contract/wiring/JWKS/swarm/pause tests, the self-test, conformance of patterns 2-3 on the 4.3.0 stand-in, pattern 3 on the 4.7.0 one and pattern 1 at a JVM's pace, two seeded faults on stacks, and a three-engine swarm (make swarm HOSTS=3); a table of each leg's time at the end
	@bash scripts/legs.sh $(CHECKS_LEG)
	@bash scripts/ensure-docker.sh $(if $(CI),,--soft)
	@$(CLI_HERE) reserve-ports $(if $(CI),,--soft)
	@rm -f $(GATE_TRACE)
	@if docker info >/dev/null 2>&1; then $(MAKE) --no-print-directory swarm && { export CARBON_LABS_GATE_TRACE=$(GATE_TRACE); bash scripts/legs.sh --append $(DOCKER_TEST_LEGS); docker=$$?; bash scripts/legs.sh --append $(TEST_LEGS); lanes=$$?; \
	  if [ $$lanes = 0 ]; then node dist/harness/gate-usage.js $(GATE_TRACE) | tee -a reports/legs/legs.md; else node dist/harness/gate-usage.js $(GATE_TRACE) >> reports/legs/legs.md; fi; \
	  [ $$lanes = 0 ] && exit $$docker; exit $$lanes; }; \
	else echo "make test: the docker and conformance suites were SKIPPED (no Docker engine): only the unit tests and the labs drift check ran. Run as root on Debian, or start Docker, and again: make test" >&2; fi

conformance: dist/.built engine ## PATTERN=1|2|3|2,3|all [PRODUCT=p[,p2...]] [PACE=jvm [BOOT_S=N]] [CHECK=id,...] [PARALLEL=N] [TARGET=compose|swarm]: prove the promises on the lab (several side by side); reports/<product>/pattern-<N>[-swarm][-<pace>]/, reports/summary/
	@$(CLI) conformance $(LAB) --target $(TARGET)$(CHECK_ARGS)

results: dist/.built ## PATTERN=1|2|3 [PRODUCT=...] [TARGET=swarm] [COMPARE=<time>]: the last conformance run's verdicts and headlines, each figure beside the run before (the last 10 are kept)
	@$(CLI) results $(LAB) --target $(TARGET)$(if $(COMPARE), --compare $(COMPARE))

selftest: dist/.built engine ## [TARGET=swarm]: run every seeded fault and show that its check fails for the reason it declares; reports/sim/selftest[-swarm]/
	CARBON_LABS_TARGET=$(TARGET) $(call SELFTEST,$(if $(filter swarm,$(TARGET)),-swarm))

bench: dist/.built engine ## [JVM=1]: timing and memory figures of the stand-in labs into bench/results.json: lab up, patterns 1-3 serial and side by side; JVM=1 adds pattern 3 at a JVM's pace (about an hour) (goals, not tests)
	$(if $(JVM),BENCH_JVM=1 )node dist/harness/bench.js

test-unit: dist/.built ## type-check (tests too), unit tests and real-tool validation only (no Docker)
	$(NODE_BIN)/tsc -p tsconfig.tests.json
	JEST_JUNIT_OUTPUT_NAME=junit-unit.xml $(JEST) --selectProjects unit

check-labs: dist/.built ## fail when labs/ differs from what the generator writes
	@$(MAKE) --no-print-directory labs >/dev/null 2>&1 || $(MAKE) --no-print-directory labs
	@git diff --exit-code --stat -- labs/ && test -z "$$(git ls-files --others --exclude-standard -- labs/)" \
	  || { echo "labs/ differs from the generator's output: run make labs and commit labs/"; exit 1; }

clean: ## remove build output and reports
	rm -rf dist reports
