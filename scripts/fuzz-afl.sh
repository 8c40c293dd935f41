#!/usr/bin/env bash
# Coverage-guided fuzzing of the readers `era fuzz` knows, with AFL++ through cargo-afl (stable Rust,
# crates.io only): AFL++ keeps the inputs that reach new branches of a reader and mutates those.
#
#   scripts/fuzz-afl.sh [SECONDS] [TARGET...]   SECONDS per target (default 300); every target by default
#
# Installs cargo-afl and builds AFL++ once (a few minutes), builds `era` instrumented under target/afl/,
# then runs AFL++ on each target, one after the other, from `era fuzz --write-seeds`' valid inputs, and
# prints a table from AFL++'s fuzzer_stats: executions, executions per second, corpus, edges covered,
# crashes, hangs (an input over 1 s). Inputs that crashed or hung stay in
# target/afl/out/TARGET/default/{crashes,hangs}/ (replay one with `era fuzz --target TARGET --replay
# FILE`); the exit status is 1 if there were any.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
[ $# -gt 0 ] && shift
version=0.18.2

if ! cargo afl --version 2>/dev/null | grep -qF "$version"; then
  echo "fuzz-afl: installing cargo-afl $version (a few minutes, once)" >&2
  cargo install cargo-afl --version "$version" --locked --quiet
fi
# AFL++'s own programs and runtime, built by cargo-afl from the sources it ships for this rustc (its
# install usually does it already).
rustc_id=$(rustc -vV | awk '/^release:/ { r = $2 } /^commit-hash:/ { h = substr($2, 1, 7) } END { print r "-" h }')
if [ ! -x "${XDG_DATA_HOME:-$HOME/.local/share}/afl.rs/rustc-$rustc_id/afl.rs-$version/afl/bin/afl-fuzz" ]; then
  echo "fuzz-afl: building AFL++ (once)" >&2
  cargo afl config --build
fi

out=target/afl
echo "fuzz-afl: building era instrumented for AFL++ under $out/ (release)" >&2
cargo afl build --quiet --release -p era-native --features afl --target-dir "$out"
era=$out/release/era

rm -rf "$out/seeds"
"$era" fuzz --write-seeds "$out/seeds"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(ls "$out/seeds")

# No terminal UI; AFL++ runs without tuning the machine (CPU governor, core dumps, pinning to a core:
# it shares the machine), and the readers that build reference data first get a minute to start.
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
export AFL_FORKSRV_INIT_TMOUT=60000
stat() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$2"; }
found=0
rows=()
for t in "${targets[@]}"; do
  [ -d "$out/seeds/$t" ] || { echo "fuzz-afl: no such target: $t (known: $(ls "$out/seeds" | tr '\n' ' '))" >&2; exit 2; }
  rm -rf "$out/out/$t"
  mkdir -p "$out/out"
  echo "fuzz-afl: $t for $seconds s" >&2
  cargo afl fuzz -i "$out/seeds/$t" -o "$out/out/$t" -V "$seconds" -t 1000 -- "$era" fuzz --afl --target "$t" \
    >"$out/out/$t.log" 2>&1 || { tail -20 "$out/out/$t.log" >&2; exit 1; }
  s=$out/out/$t/default/fuzzer_stats
  crashes=$(stat saved_crashes "$s") hangs=$(stat saved_hangs "$s")
  rows+=("$(printf '%-18s %10s %8s %7s %9s %8s %6s %8s' "$t" "$(stat execs_done "$s")" "$(stat execs_per_sec "$s")" \
    "$(stat corpus_count "$s")" "$(stat edges_found "$s")" "$(stat bitmap_cvg "$s")" "$crashes" "$hangs")")
  [ "$crashes" = 0 ] && [ "$hangs" = 0 ] || found=1
done
printf '%-18s %10s %8s %7s %9s %8s %6s %8s\n' target execs "execs/s" corpus edges coverage crashes hangs
printf '%s\n' "${rows[@]}"
exit $found
