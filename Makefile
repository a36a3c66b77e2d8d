# pixelgrad build. `make` builds the library and the command; `make test` installs what is
# missing, builds and runs the test suite (release, then AddressSanitizer + UBSan) and prints
# "N passed, M failed"; `make bench` builds and runs the benchmarks; `make run` trains on toy data.
#   CONFIG=release|debug|asan   each in its own folder under build/
#   NATIVE=1 (default)          -march=native; NATIVE=0 builds portable code (scalar kernels)
#                               Each combination builds in its own folder: build/<config>[-portable][-cuda]
#   CUDA=1                      also compiles kernels/cuda/*.cu with nvcc
CONFIG ?= release
NATIVE ?= 1
CUDA ?= 0
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
VARIANT := $(if $(filter 0,$(NATIVE)),-portable)$(if $(filter 1,$(CUDA)),-cuda)
BUILD := build/$(CONFIG)$(VARIANT)

CXX ?= g++
ifeq ($(CXX),c++)
  CXX := g++
endif
CXXFLAGS := -std=c++20 -Wall -Wextra -fopenmp -I. -MMD -MP
LDLIBS := -fopenmp -lstb
ifeq ($(CONFIG),release)
  CXXFLAGS += -O3 -g
else ifeq ($(CONFIG),debug)
  CXXFLAGS += -O0 -g
else ifeq ($(CONFIG),asan)
  CXXFLAGS += -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDLIBS += -fsanitize=address,undefined
else
  $(error CONFIG must be release, debug or asan, got '$(CONFIG)')
endif
ifeq ($(filter 0 1,$(NATIVE)),)
  $(error NATIVE must be 1 (-march=native) or 0 (portable), got '$(NATIVE)')
endif
ifeq ($(filter 0 1,$(CUDA)),)
  $(error CUDA must be 0 or 1, got '$(CUDA)')
endif
ifeq ($(NATIVE),1)
  CXXFLAGS += -march=native
endif

LIB_SRCS := $(wildcard core/*.cpp core/ops/*.cpp kernels/cpu/*.cpp layers/*.cpp nets/*.cpp \
                       nets/backbones/*.cpp data/*.cpp)
ifeq ($(CUDA),1)
  NVCC ?= $(shell command -v nvcc || echo /usr/local/cuda/bin/nvcc)
  CUDA_SRCS := $(wildcard kernels/cuda/*.cu)
  CXXFLAGS += -DPG_CUDA=1
  LDLIBS += -L/usr/local/cuda/lib64 -Wl,-rpath,/usr/local/cuda/lib64 -lcudart
endif
LIB_OBJS := $(LIB_SRCS:%.cpp=$(BUILD)/%.o) $(CUDA_SRCS:%.cu=$(BUILD)/%.cu.o)
LIB := $(BUILD)/libpixelgrad.a

TEST_SRCS := $(wildcard tests/*.cpp)
TEST_OBJS := $(TEST_SRCS:%.cpp=$(BUILD)/%.o)
TEST_BIN := $(BUILD)/pixelgrad_tests

BENCH_SRCS := $(wildcard bench/*.cpp)
BENCH_BINS := $(BENCH_SRCS:bench/%.cpp=$(BUILD)/bench/%)
OPENBLAS_LIB := $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/libopenblas.so /usr/lib/*/libopenblas.so))

CLI_OBJS := $(patsubst %.cpp,$(BUILD)/%.o,$(wildcard tools/*.cpp))
CLI_BIN := $(BUILD)/pixelgrad
# The command's parts (training loop, checkpoints, metrics table, pictures) without its main: the
# tests link them too.
TOOLS_OBJS := $(filter-out $(BUILD)/tools/pixelgrad.o,$(CLI_OBJS))

.PHONY: all lib tests bench bench-build test run deps clean format
all: deps-quiet lib $(CLI_BIN)

lib: $(LIB)

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BUILD)/%.cu.o: %.cu
	@test -x "$(NVCC)" || { echo "CUDA=1: nvcc not found (install the CUDA toolkit or put nvcc on PATH)"; exit 1; }
	@mkdir -p $(dir $@)
	$(NVCC) -std=c++17 -O3 -I. -c $< -o $@

$(CLI_BIN): $(CLI_OBJS) $(LIB)
	$(CXX) $^ -o $@ $(LDLIBS)

tests: $(TEST_BIN)

$(TEST_BIN): $(TEST_OBJS) $(TOOLS_OBJS) $(LIB)
	$(CXX) $^ -o $@ $(LDLIBS) -lgtest -lpthread

$(BUILD)/bench/%: bench/%.cpp $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(if $(and $(findstring gemm,$*),$(OPENBLAS_LIB)),-DPG_WITH_OPENBLAS) $< $(LIB) -o $@ \
	  $(LDLIBS) -lbenchmark -lpthread $(if $(and $(findstring gemm,$*),$(OPENBLAS_LIB)),-lopenblas)

bench-build: $(BENCH_BINS)

# The test suite in the release build, then under AddressSanitizer + UBSan; one summary line.
test: deps
	$(MAKE) --no-print-directory -j$(JOBS) CONFIG=release tests
	$(MAKE) --no-print-directory -j$(JOBS) CONFIG=asan tests
	@bash tools/run_tests.sh build/release$(VARIANT)/pixelgrad_tests build/asan$(VARIANT)/pixelgrad_tests

bench: deps
	$(MAKE) --no-print-directory -j$(JOBS) CONFIG=release bench-build
	@for b in $(BENCH_SRCS:bench/%.cpp=build/release$(VARIANT)/bench/%); do \
	  echo "== $$b"; OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $$b --benchmark_min_time=0.1 || exit 1; done

# `make run`: trains RUN_ARCH on toy data and writes runs/$(RUN_ARCH)/ (checkpoint, log.csv,
# plot.svg, predictions/grid.png). RUN_ARCH=NAME-tiny trains another net with the same settings.
# fcn8s-tiny: of the tiny nets, the one that reached the highest toy mIoU in three minutes on 2
# cores (its step is the cheapest; U-Net's is 2.6x dearer); see README "make run".
RUN_ARCH ?= fcn8s-tiny
RUN_FLAGS ?= --toy 20000 --toy-val 200 --steps 15000 --batch 8 --lr 0.003 --val-every 2500
run: deps
	$(MAKE) --no-print-directory -j$(JOBS) CONFIG=release all
	OMP_WAIT_POLICY=passive build/release$(VARIANT)/pixelgrad train --arch $(RUN_ARCH) $(RUN_FLAGS) --out runs/$(RUN_ARCH)

deps:
	@bash tools/install_deps.sh

deps-quiet:
	@bash tools/install_deps.sh --quiet

format:
	clang-format -i $$(git ls-files '*.h' '*.cpp' '*.cu')

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(BENCH_BINS:=.d)
