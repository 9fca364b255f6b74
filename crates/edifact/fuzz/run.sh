#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer's instrumentation and runs each for a while: what CI
# runs (.ci/run), and what `cargo +nightly fuzz run <target>` does where cargo-fuzz is installed.
#
#   crates/edifact/fuzz/run.sh [seconds per target, default 60] [target ...]
#
# Why not `cargo install cargo-fuzz` in CI: installing it takes about two minutes on two cores,
# half the time this step may take. cargo-fuzz only sets flags and runs the binaries, so this
# passes the flags `cargo fuzz build --sanitizer none` passes (coverage instrumentation, `--cfg
# fuzzing`, debug assertions). No sanitizer: jinguan-edifact forbids unsafe code, so
# AddressSanitizer would look only at its dependencies, at twice the build time.
#
# New inputs are kept in corpus/<target>, crashes in artifacts/<target> (both ignored by git).
# The EDIFACT samples in ../shared/corpus seed every target where they are present.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tokenize roundtrip validate)
# Instrumentation needs nightly (-Cpasses, --cfg fuzzing builds of libfuzzer-sys).
cargo +nightly --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal
triple="$(rustc +nightly -vV | sed -n 's/^host: //p')"

export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-sanitizer-coverage-stack-depth \
-Cllvm-args=-simplifycfg-branch-fold-threshold=0 --cfg fuzzing -Cdebug-assertions"
# --target keeps RUSTFLAGS off build scripts and proc macros, as cargo-fuzz does.
cargo +nightly build --locked --release --target "$triple" --target-dir target --bins \
    --config 'profile.release.debug="line-tables-only"'

seeds=()
samples="$(pwd)/../../../../shared/corpus/edifact/samples"
[ -d "$samples" ] && seeds=("$samples")
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    echo "fuzz: $target for ${seconds}s"
    # max_len: the samples go up to 2 MB; mutating inputs that long would spend the time on
    # copying. 64 KB holds a whole interchange of a few hundred segments.
    status=0
    "target/$triple/release/$target" -max_total_time="$seconds" -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="artifacts/$target/" \
        "corpus/$target" ${seeds[@]+"${seeds[@]}"} >"artifacts/$target.log" 2>&1 || status=$?
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+ +DONE)' \
        "artifacts/$target.log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "artifacts/$target.log"
        echo "fuzz: $target failed (exit $status); the input is in artifacts/$target"
        exit 1
    fi
done
