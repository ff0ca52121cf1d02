# The two commands: `make run` (Purser on a private PostgreSQL) and `make test`.
SWIFT_BIN := /opt/swift/usr/bin
export PATH := $(SWIFT_BIN):$(PATH)

.PHONY: run test bench build clean

run:
	@scripts/install-packages.sh $$(cat scripts/packages-build.txt)
	swift build -c release --product purser
	.build/release/purser dev

test:
	scripts/test.sh

bench:
	bench/run.sh

build:
	swift build

clean:
	rm -rf .build .venv
