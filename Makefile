# Entry points for people and CI. Each target that needs the toolchain or the
# models runs `deps` / `models` first, so it works alone on a fresh machine.
#   make demo    build the web package, serve the demo page, classify the default photo in headless Chromium
#   make test    build (native + web), fetch models, run every test (browser tests included) under CTest
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPROC := $(shell nproc 2>/dev/null || echo 2)
GLINT := build/native/glint
MODELS := models/data
# Debian's emscripten needs Debian's node modules (acorn) on NODE_PATH.
WEB_ENV := NODE_PATH=/usr/share/nodejs

# Seeds of the fuzz runs (tools/fuzz.sh): the ONNX node tests and models/data.
NODE_TESTS := /usr/share/libonnx-testdata/data/node
FUZZER := build/fuzz/test/fuzz/glint_fuzz_model
FUZZER_GPU_PLAN := build/fuzz/test/fuzz/glint_fuzz_gpu_plan
FUZZ_SECONDS ?= 600

.PHONY: help deps deps-web build web docs models zoo-models zoo test demo demo-native bench asan fuzz-build fuzz clean

help:
	@echo "make deps    install Debian packages (tools/deps.sh; quick when nothing is missing)"
	@echo "make build   configure and build the native preset into build/native"
	@echo "make web     build the web preset (Emscripten) into build/web and the npm package into web/dist"
	@echo "make docs    API docs of the npm package (TypeDoc over web/src/index.d.ts) into web/docs/api"
	@echo "make models  fetch models, labels and photos into $(MODELS) (tools/fetch-models.sh)"
	@echo "make test    deps + build + web + models + the zoo's fast models, then ctest (unit, models, node tests, zoo, browser tests)"
	@echo "make zoo     the whole model zoo (tools/zoo/make_zoo.py) on default and cpu: table and chart in build/zoo/"
	@echo "make demo    deps + web + models, then serve the demo page and classify the default photo in headless Chromium"
	@echo "make demo-native  deps + build + models, then glint classify the default photo"
	@echo "make bench   deps + build + web + models, then the browser benchmark (web/bench: glint vs TF.js, onnxruntime-web, ONNX.js) and glint bench natively"
	@echo "make asan    deps + models, build the native-asan preset and run its tests"
	@echo "make fuzz    deps + models, build the fuzz preset (clang, libFuzzer, ASan + UBSan) and fuzz model loading + a CPU run, then GPU planning + shader composing, FUZZ_SECONDS (600) each"
	@echo "make clean   remove the preset build directories"

deps:
	@bash tools/deps.sh

deps-web:
	@GLINT_DEPS_WEB=1 bash tools/deps.sh

build: deps
	@echo "==> configure + build (preset native, $(NPROC) jobs)"
	@cmake --preset native >/dev/null
	@cmake --build --preset native -j$(NPROC)

web: deps-web
	@bash tools/build-protobuf-wasm.sh
	@echo "==> configure + build (preset web, $(NPROC) jobs)"
	@$(WEB_ENV) cmake --preset web >/dev/null
	@$(WEB_ENV) cmake --build --preset web -j$(NPROC)
	@node web/tools/build.mjs

# TypeDoc (pinned in web/package-lock.json) over the package's TypeScript
# declarations; the output (web/docs/api) is not committed.
docs: deps-web
	@echo "==> API docs (TypeDoc) -> web/docs/api"
	@cd web && node node_modules/typedoc/bin/typedoc --logLevel Warn
	@echo "docs: web/docs/api/index.html"

models:
	@bash tools/fetch-models.sh

# The model zoo's models and references (tools/zoo/make_zoo.py; models/data/zoo,
# cached by recipe): the fast ones for `make test`, all of them with GLINT_ZOO=full.
zoo-models: deps build models
	@GLINT_DEPS_ZOO=1 bash tools/deps.sh
	@echo "==> model zoo: models and references (tools/zoo/make_zoo.py$(if $(filter full,$(GLINT_ZOO)),, --fast))"
	@/usr/bin/python3 tools/zoo/make_zoo.py $(if $(filter full,$(GLINT_ZOO)),,--fast)

zoo:
	@$(MAKE) --no-print-directory zoo-models GLINT_ZOO=full
	@GLINT_ZOO=full bash tools/run-zoo.sh $(GLINT) build/zoo

test: deps-web build web models zoo-models fuzz-build
	@echo "==> ctest (build/native)"
	@ctest --test-dir build/native --output-on-failure
	@echo "==> ctest (build/fuzz: fuzz-short and fuzz-gpu-plan-short, a minute or two of fuzzing)"
	@ctest --test-dir build/fuzz --output-on-failure

demo: deps-web web models
	@echo "==> demo page (web/demo) in headless Chromium"
	@node web/tools/demo.mjs

demo-native: deps build models
	@echo "==> $(GLINT) classify squeezenet1.1-fp16 chelsea.png"
	@$(GLINT) classify $(MODELS)/squeezenet1.1-fp16.onnx $(MODELS)/images/chelsea.png \
	  --labels $(MODELS)/imagenet-labels.txt --top 5

# BENCH_ARGS: options for web/bench/run.mjs, e.g. make bench BENCH_ARGS="--runs 5 --only mnist,matmul".
# GLINT_DEPS_BENCH=1: torch + torchvision for the models, and `npm ci` in
# web/bench when its package-lock.json changed (TensorFlow.js, onnxruntime-web, ONNX.js).
bench: deps-web build web models
	@GLINT_DEPS_BENCH=1 bash tools/deps.sh
	@echo "==> benchmark models (tools/make-bench-models.py -> $(MODELS)/bench)"
	@/usr/bin/python3 tools/make-bench-models.py
	@echo "==> browser benchmark (web/bench/run.mjs; results in bench-results/)"
	@node web/bench/run.mjs --no-models $(BENCH_ARGS)
	@echo "==> native benchmark (tools/bench_native.py: $(GLINT) on GL and CPU, onnxruntime beside where importable)"
	@/usr/bin/python3 tools/bench_native.py --glint $(GLINT) --models $(MODELS)/bench --out bench-results/native

asan: deps models
	@echo "==> configure + build (preset native-asan, $(NPROC) jobs)"
	@cmake --preset native-asan >/dev/null
	@cmake --build --preset native-asan -j$(NPROC)
	@echo "==> ctest (build/native-asan)"
	@ctest --test-dir build/native-asan --output-on-failure

# The fuzz preset builds only the engine (without GL) and the fuzz targets.
fuzz-build: deps
	@echo "==> configure + build (preset fuzz, $(NPROC) jobs)"
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j$(NPROC)

fuzz: fuzz-build models
	@echo "==> fuzz $(FUZZ_SECONDS) s (corpus and findings in build/fuzz/fuzz-work)"
	@bash tools/fuzz.sh $(FUZZER) build/fuzz/fuzz-work $(FUZZ_SECONDS) $(NODE_TESTS) $(MODELS)
	@echo "==> fuzz GPU planning $(FUZZ_SECONDS) s (corpus and findings in build/fuzz/fuzz-gpu-plan-work)"
	@bash tools/fuzz.sh $(FUZZER_GPU_PLAN) build/fuzz/fuzz-gpu-plan-work $(FUZZ_SECONDS) $(NODE_TESTS) $(MODELS)

clean:
	@echo "==> removing build/native build/native-asan build/fuzz build/web web/dist"
	@rm -rf build/native build/native-asan build/fuzz build/web web/dist
