#!/usr/bin/env bash
# Runs the model zoo (models/data/zoo, written by tools/zoo/make_zoo.py) with
# `glint zoo` on the default and cpu backends and writes what it found into
# OUT_DIR: results.json (every figure), zoo.md (the table) and zoo.svg (the
# chart), then prints the table. GLINT_ZOO=full runs every model; otherwise
# only those zoo.json marks fast (make test's subset). Exit 77 (skipped) when
# there is no zoo; 1 when a model fails.
#   tools/run-zoo.sh GLINT_BINARY OUT_DIR
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GLINT=${1:?usage: run-zoo.sh GLINT_BINARY OUT_DIR}
OUT=${2:?usage: run-zoo.sh GLINT_BINARY OUT_DIR}
ZOO="$ROOT/models/data/zoo"
if ! compgen -G "$ZOO/*/model.onnx" >/dev/null; then
  echo "run-zoo: no models in $ZOO (make zoo-models); skipped"
  exit 77
fi
mkdir -p "$OUT"
subset=(--fast)
[[ "${GLINT_ZOO:-}" == full ]] && subset=()
"$GLINT" zoo "$ZOO" --backend default,cpu "${subset[@]}" --timeout "${GLINT_ZOO_TIMEOUT:-180}" --json "$OUT/results.json"
rc=$?
python3 "$ROOT/tools/zoo_report.py" "$OUT/results.json" --markdown "$OUT/zoo.md" --svg "$OUT/zoo.svg" || rc=1
echo
cat "$OUT/zoo.md"
echo "run-zoo: table in $OUT/zoo.md, chart in $OUT/zoo.svg"
exit $rc
