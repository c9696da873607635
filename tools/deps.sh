#!/usr/bin/env bash
# Installs the Debian packages glint needs to build and test natively.
# Idempotent: asks dpkg first and touches apt only when something is missing,
# so a second run takes well under a second.
#
#   bash tools/deps.sh            # native build + tests
#   GLINT_DEPS_WEB=1 bash tools/deps.sh   # also the web toolchain (see below)
set -euo pipefail

# --- native build, unit/model tests ------------------------------------------
# libgl1-mesa-dri ships swrast_dri.so (llvmpipe), which EGL's surfaceless
# platform loads when there is no GPU; libegl-mesa0 is Mesa's EGL vendor library.
NATIVE_PACKAGES=(
  build-essential cmake pkg-config
  protobuf-compiler libprotobuf-dev
  libonnx-dev libonnx-testdata python3-onnx python3-numpy
  libglm-dev catch2 libstb-dev nlohmann-json3-dev
  libegl-dev libgles-dev libegl-mesa0 libgl1-mesa-dri
)

# --- web build and browser tests (the web issue fills these in) ---------------
# Debian packages such as emscripten and chromium, and npm packages such as
# playwright-core, belong here; they are installed only when GLINT_DEPS_WEB=1.
WEB_PACKAGES=()
NPM_PACKAGES=()

log() { printf 'deps: %s\n' "$*"; }

# Prints the packages among "$@" that are not fully installed.
missing_packages() {
  local p status
  for p in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ "$status" == "ii"* ]] || printf '%s\n' "$p"
  done
}

install_debian() {
  local -a missing
  mapfile -t missing < <(missing_packages "$@")
  if ((${#missing[@]} == 0)); then
    log "all ${#} Debian packages present"
    return 0
  fi
  log "installing ${#missing[@]} Debian package(s): ${missing[*]}"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { log "error: not root and no sudo; install: ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Verify: apt-get can succeed and still leave a package half-configured.
  mapfile -t missing < <(missing_packages "$@")
  if ((${#missing[@]} > 0)); then
    log "error: still missing after install: ${missing[*]}"
    exit 1
  fi
  log "installed"
}

install_debian "${NATIVE_PACKAGES[@]}"

if [[ "${GLINT_DEPS_WEB:-0}" == 1 ]]; then
  if ((${#WEB_PACKAGES[@]} > 0)); then install_debian "${WEB_PACKAGES[@]}"; fi
  if ((${#NPM_PACKAGES[@]} > 0)); then
    log "npm packages are not wired up yet: ${NPM_PACKAGES[*]}"
  fi
fi
