# Shared by the reproduce-*.sh scripts (sourced, not run): resumable runs and their tables.
# Needs `era` (the binary to call) and `out` (the folder runs go to) set by the caller.

# run DOMAIN SEED NAME ARGS…: trains seed SEED of run NAME (in $out/seed-SEED/NAME) with
# `era train DOMAIN ARGS…` unless it completed; continues it from its last checkpoint if it was stopped.
# One run at a time: a run uses both cores.
run() {
  local domain=$1 seed=$2 name=$3
  shift 3
  local dir="$out/seed-$seed/$name"
  if [ -d "$dir" ]; then
    if "$era" train "$domain" --resume "$dir" --quiet 2>"$dir.resume.err"; then
      echo "reproduce: seed $seed of $name: done (continued from its checkpoint)"
    elif grep -q "every run here has completed" "$dir.resume.err"; then
      echo "reproduce: seed $seed of $name: already complete"
    else
      cat "$dir.resume.err" >&2
      exit 1
    fi
  else
    echo "reproduce: seed $seed of $name: era train $domain $* --seed $seed"
    "$era" train "$domain" "$@" --seed "$seed" --run-name "$name" --out "$out/seed-$seed" --quiet
  fi
}

# seeds N: the seeds 0 … N−1.
seeds() { seq 0 $(($1 - 1)); }

# table TITLE CSV ARGS…: `era compare ARGS…`, its CSV written to $out/CSV and its paired comparison
# (each ERA setting against its baseline, seed by seed) to $out/<CSV without .csv>-paired.csv.
table() {
  local title=$1 csv=$2
  shift 2
  printf '\n== %s\n' "$title"
  "$era" compare "$@" --csv "$out/$csv" --paired-csv "$out/${csv%.csv}-paired.csv"
}
