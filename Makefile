# Entry points for people and CI. Each target that needs the toolchain or the
# models runs `deps` / `models` first, so it works alone on a fresh machine.
#   make demo    classify the default photo (native runner until the web demo lands)
#   make test    build, fetch models, run every test under CTest
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPROC := $(shell nproc 2>/dev/null || echo 2)
GLINT := build/native/glint
MODELS := models/data

.PHONY: help deps build models test demo bench asan clean

help:
	@echo "make deps    install Debian packages (tools/deps.sh; quick when nothing is missing)"
	@echo "make build   configure and build the native preset into build/native"
	@echo "make models  fetch models, labels and photos into $(MODELS) (tools/fetch-models.sh)"
	@echo "make test    deps + build + models, then ctest"
	@echo "make demo    deps + build + models, then glint classify the default photo"
	@echo "make bench   deps + build + models, then glint bench on SqueezeNet"
	@echo "make asan    deps + models, build the native-asan preset and run its tests"
	@echo "make clean   remove the preset build directories"

deps:
	@bash tools/deps.sh

build: deps
	@echo "==> configure + build (preset native, $(NPROC) jobs)"
	@cmake --preset native >/dev/null
	@cmake --build --preset native -j$(NPROC)

models:
	@bash tools/fetch-models.sh

test: deps build models
	@echo "==> ctest (build/native)"
	@ctest --test-dir build/native --output-on-failure

demo: deps build models
	@echo "==> $(GLINT) classify squeezenet1.1-fp16 chelsea.png"
	@$(GLINT) classify $(MODELS)/squeezenet1.1-fp16.onnx $(MODELS)/images/chelsea.png \
	  --labels $(MODELS)/imagenet-labels.txt --top 5

bench: deps build models
	@echo "==> $(GLINT) bench squeezenet1.1-fp16 (20 runs)"
	@$(GLINT) bench $(MODELS)/squeezenet1.1-fp16.onnx --runs 20

asan: deps models
	@echo "==> configure + build (preset native-asan, $(NPROC) jobs)"
	@cmake --preset native-asan >/dev/null
	@cmake --build --preset native-asan -j$(NPROC)
	@echo "==> ctest (build/native-asan)"
	@ctest --test-dir build/native-asan --output-on-failure

clean:
	@echo "==> removing build/native build/native-asan build/web"
	@rm -rf build/native build/native-asan build/web
