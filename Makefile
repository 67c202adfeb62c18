# The two commands of the README:
#   make run    install what is missing, build Release, serve on 127.0.0.1:8080 (demo at /,
#               history in ./data/kinto-push.sqlite3)
#   make test   install what is missing, build, run every test
.PHONY: run test build release deps test-deps clean

JOBS ?= $(shell nproc)
RUN_ARGS ?= --listen 127.0.0.1:8080

run: release
	./build/release/server/kinto-push $(RUN_ARGS)

release: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

build: test-deps
	cmake --preset dev
	cmake --build --preset dev -j $(JOBS)

test: build
	ctest --preset dev

deps:
	scripts/install-deps build

test-deps:
	scripts/install-deps test

clean:
	rm -rf build
