#!/usr/bin/env bash
# Builds a crate's fuzz targets with libFuzzer's instrumentation and runs each for a while:
# what CI runs (.ci/run, through each crate's fuzz/run.sh), and what `cargo +nightly fuzz run
# <target>` does where cargo-fuzz is installed.
#
#   scripts/fuzz.sh FUZZ_DIR SECONDS MAX_LEN SEED_DIR -- TARGET...
#
# Why not `cargo install cargo-fuzz` in CI: installing it takes about two minutes on two cores,
# half the time this step may take. cargo-fuzz only sets flags and runs the binaries, so this
# passes the flags `cargo fuzz build --sanitizer none` passes (coverage instrumentation, `--cfg
# fuzzing`, debug assertions). No sanitizer: the fuzzed crates forbid unsafe code, so
# AddressSanitizer would look only at their dependencies, at twice the build time.
#
# New inputs are kept in FUZZ_DIR/corpus/<target>, crashes in FUZZ_DIR/artifacts/<target>
# (both ignored by git). SEED_DIR (when it exists) seeds every target; MAX_LEN bounds the
# inputs libFuzzer makes.
set -euo pipefail
dir="$1" seconds="$2" max_len="$3" seeds_dir="$4"
shift 4
[ "${1:-}" = "--" ] && shift
targets=("$@")
cd "$dir"
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
[ -d "$seeds_dir" ] && seeds=("$seeds_dir")
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    echo "fuzz: $target for ${seconds}s"
    status=0
    "target/$triple/release/$target" -max_total_time="$seconds" -max_len="$max_len" \
        -print_final_stats=1 -artifact_prefix="artifacts/$target/" \
        "corpus/$target" ${seeds[@]+"${seeds[@]}"} >"artifacts/$target.log" 2>&1 || status=$?
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+ +DONE)' \
        "artifacts/$target.log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "artifacts/$target.log"
        echo "fuzz: $target failed (exit $status); the input is in $dir/artifacts/$target"
        exit 1
    fi
done
