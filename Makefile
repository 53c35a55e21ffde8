# waybill: the commands a user types. Everything goes through CMake.
#   make demo   install missing packages, build, run the log journey
#   make test   install missing packages, build, run every test (ctest)
#   make bench  build optimised and print the benchmark figures
#   make asan   the whole test suite under AddressSanitizer + UBSan
#   make fuzz   build the libFuzzer targets with clang and run each a while
#   make clean  remove every build directory
BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECS  ?= 30

.PHONY: all build deps demo test bench asan fuzz clean

all: build

deps:
	@sh scripts/install-deps.sh

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: deps build
	@sh scripts/demo.sh $(BUILD)/waybill

test: deps build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: deps
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-bench -j $(JOBS) --target waybill-bench waybill
	@./build-bench/waybill-bench

asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DWB_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

fuzz:
	@WAYBILL_DEPS_EXTRA="clang libclang-rt-14-dev" sh scripts/install-deps.sh
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWB_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@sh scripts/fuzz.sh build-fuzz $(FUZZ_SECS)

clean:
	rm -rf $(BUILD) build-bench build-asan build-fuzz
