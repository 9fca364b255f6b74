#!/usr/bin/env bash
# The EDIFACT fuzz targets, each for a while (see scripts/fuzz.sh):
#
#   crates/edifact/fuzz/run.sh [seconds per target, default 60] [target ...]
#
# The EDIFACT samples in ../shared/corpus seed every target where they are present. max_len:
# the samples go up to 2 MB; mutating inputs that long would spend the time on copying. 64 KB
# holds a whole interchange of a few hundred segments.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tokenize roundtrip validate)
exec "$here/../../../scripts/fuzz.sh" "$here" "$seconds" 65536 \
    "$here/../../../../shared/corpus/edifact/samples" -- "${targets[@]}"
