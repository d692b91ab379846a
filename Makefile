# The front door.  Two commands matter to a newcomer:
#   make run    install what is needed, build, and show comity working
#   make test   install what is needed, build with ASan+UBSan, run every test
# Others: make build, make web, make demo, make demo-cases, make demo-federation, make demo-attribution, make demo-norms, make demo-spyware, make bench, make fuzz [FUZZ_SECONDS=N], make deb, make clean.
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 20

.PHONY: all deps build web run test bench fuzz deb clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOMITY_TESTS=OFF >/dev/null
	@cmake --build build -j $(JOBS)

# the web UI's static files, into build/web (beside build/comity, where
# `comity serve` finds them)
web: deps
	@cd web && node build.mjs ../build/web

run: build web
	@scripts/run

# the framework scenario on one machine (hub, two states, the secretariat)
.PHONY: demo demo-cases demo-federation demo-attribution demo-norms demo-spyware
demo: build
	@scripts/demo
demo-cases: build
	@scripts/demo-cases
demo-federation: build
	@scripts/demo-federation
demo-attribution: build
	@scripts/demo-attribution
demo-norms: build
	@scripts/demo-norms
demo-spyware: build
	@scripts/demo-spyware

test: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCOMITY_SANITIZE=ON -DCOMITY_BENCH=OFF >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ctest --output-on-failure -j $(JOBS)

bench:
	@scripts/install-deps --bench
	@cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DCOMITY_TESTS=OFF >/dev/null
	@cmake --build build-release -j $(JOBS)
	@bench/run build-release

fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOMITY_FUZZ=ON -DCOMITY_TESTS=OFF -DCOMITY_BENCH=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@scripts/fuzz build-fuzz $(FUZZ_SECONDS)

# the Debian package (scripts/deb): the release binary, the web UI, the
# systemd unit and man pages from the help texts, into build-release/deb/
deb: deps
	@cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DCOMITY_TESTS=OFF -DCOMITY_BENCH=OFF >/dev/null
	@cmake --build build-release -j $(JOBS)
	@cd web && node build.mjs ../build-release/web
	@scripts/deb build-release/comity build-release/deb --web build-release/web

clean:
	rm -rf build build-asan build-release build-fuzz
