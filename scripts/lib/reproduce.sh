# Shared by the reproduce-*.sh scripts (sourced, not run): their sweeps and their tables.
# Needs `era` (the binary to call) and `out` (the sweep folder) set by the caller.

# sweep SPEC ARGS…: `era sweep assets/sweeps/SPEC.toml` into $out, one run at a time (a run uses both
# cores): completed runs are skipped, stopped ones continue from their last checkpoint. ARGS go to
# `era sweep` (`--only AXIS=LABELS`, then `--` and options that every run gets).
sweep() {
  local spec=$1
  shift
  "$era" sweep "assets/sweeps/$spec.toml" --out "$out" --local 1 "$@"
}

# table TITLE CSV ARGS…: `era compare ARGS…`, its CSV written to $out/CSV and its paired comparison
# (each ERA setting against its baseline, seed by seed) to $out/<CSV without .csv>-paired.csv.
table() {
  local title=$1 csv=$2
  shift 2
  printf '\n== %s\n' "$title"
  "$era" compare "$@" --csv "$out/$csv" --paired-csv "$out/${csv%.csv}-paired.csv"
}
