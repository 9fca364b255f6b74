#!/usr/bin/env bash
# The China message fuzz targets, each for a while (see scripts/fuzz.sh):
#
#   crates/chinaport/fuzz/run.sh [seconds per target, default 60] [target ...]
#
# The China samples in ../shared/corpus (CEB, bonded, manifests, declarations) seed every
# target where they are present. 256 KB holds the largest of them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(messages c14n)
exec "$here/../../../scripts/fuzz.sh" "$here" "$seconds" 262144 \
    "$here/../../../../shared/corpus/china" -- "${targets[@]}"
