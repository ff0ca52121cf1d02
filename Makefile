# The two commands: `make run` (Purser on a private PostgreSQL) and `make test`.
SWIFT_BIN := /opt/swift/usr/bin
export PATH := $(SWIFT_BIN):$(PATH)

.PHONY: run test test-scale fuzz bench build clean

run:
	@scripts/install-packages.sh $$(cat scripts/packages-build.txt)
	swift build -c release --product purser
	.build/release/purser dev

test:
	scripts/test.sh

# Many nodes, PgBouncer, a replica and failover on loopback (docs/scaling.md); CI runs it after test.
test-scale:
	scripts/test-scale.sh

# Not one of the two: schemathesis from a fresh seed, longer (README, "Fuzzing").
fuzz:
	scripts/fuzz.sh

bench:
	bench/run.sh

build:
	swift build

clean:
	rm -rf .build .venv
