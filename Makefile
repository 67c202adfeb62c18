# The two commands of the README:
#   make run    install what is missing, build Release, serve on 127.0.0.1:8080 (demo at /,
#               history in ./data/kinto-push.sqlite3)
#   make test   install what is missing, build, run every test: the dev build's suites, then
#               the unit and integration suites under ASan+UBSan, the concurrency tests under
#               TSan, and each fuzz target for FUZZ_SECONDS (what .ci/run runs)
# Parts: make test-dev (the quick loop), test-sanitizers (test-asan, test-asan-integration,
# test-tsan), fuzz.
.PHONY: run test test-dev test-sanitizers test-asan test-asan-integration test-tsan test-tsan-server fuzz build release deps test-deps clean

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30
RUN_ARGS ?= --listen 127.0.0.1:8080

run: release
	./build/release/server/kinto-push $(RUN_ARGS)

release: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

build: test-deps
	cmake --preset dev
	cmake --build --preset dev -j $(JOBS)

# Written by the kinto_plugin tests when real Kinto was not found (its tests were skipped).
KINTO_SKIPPED = build/kinto-plugin-real-kinto-skipped.txt

test: test-dev test-sanitizers fuzz
	@if [ -f $(KINTO_SKIPPED) ]; then echo "NOTE: $$(cat $(KINTO_SKIPPED))"; fi

test-dev: build
	ctest --preset dev
	@if [ -f $(KINTO_SKIPPED) ]; then echo "NOTE: $$(cat $(KINTO_SKIPPED))"; fi

test-sanitizers: test-asan test-asan-integration test-tsan

# The unit suites (unit_tests, concurrency_tests) with AddressSanitizer +
# UndefinedBehaviorSanitizer: any report fails the test (UBSan aborts).
test-asan: test-deps
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS) --target unit_tests concurrency_tests
	ctest --preset asan -L 'unit|concurrency'

# The integration suite against the ASan+UBSan server: a sanitizer report in the server's log
# fails the test that stopped it.
test-asan-integration: test-asan
	cmake --build --preset asan -j $(JOBS) --target kinto-push kinto-push-faulty-disk
	ctest --preset asan -L integration

# The unit tests labelled `concurrency` (hub, ingest queue, replay race: the concurrency_tests
# program) with ThreadSanitizer. setarch -R: TSan needs the address layout it knows.
test-tsan: test-deps
	cmake --preset tsan
	cmake --build --preset tsan -j $(JOBS) --target concurrency_tests
	setarch -R ctest --preset tsan -L '^concurrency$$'

# The same with the whole server under TSan and the integration tests where threads race
# (not in make test: that build takes longer than CI allows on 2 cores).
test-tsan-server: test-tsan
	cmake --build --preset tsan -j $(JOBS) --target kinto-push kinto-push-faulty-disk
	setarch -R ctest --preset tsan -L concurrency_server

# libFuzzer (clang): every target of fuzz/ for FUZZ_SECONDS each, from its seed corpus.
fuzz: test-deps
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS)
	fuzz/run-all $(FUZZ_SECONDS)

deps:
	scripts/install-deps build

test-deps:
	scripts/install-deps test

clean:
	rm -rf build
