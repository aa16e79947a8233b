#!/bin/bash
# Instructions (in billions) that analyzing TEXT takes with CHECKOUT's narrator, counted by
# valgrind: the same count on every run however busy the machine is, so two checkouts can be
# compared where timings are too noisy to (bench/RESULTS.md). Importing narrator is counted
# apart and left out. About fifty times slower than a plain run. Needs valgrind
# (`apt-get install valgrind`, GPL; a tool run by hand, never part of narrator).
#
#   bash bench/instructions.sh CHECKOUT TEXT
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: bash bench/instructions.sh CHECKOUT TEXT" >&2
  exit 2
fi
if ! command -v valgrind >/dev/null; then
  echo "error: valgrind is not installed; install it with: apt-get install valgrind" >&2
  exit 1
fi
checkout=$(realpath "$1")
text=$(realpath "$2")
python=${PYTHON:-$(dirname "$(realpath "$0")")/../.venv/bin/python}
if [ ! -d "$checkout/narrator" ] || [ ! -f "$text" ] || [ ! -x "$python" ]; then
  echo "error: need a checkout with narrator/, a text file, and $python (or set PYTHON)" >&2
  exit 2
fi
count() {
  # From /tmp, so that no narrator in the working folder comes before CHECKOUT's.
  (cd /tmp && PYTHONHASHSEED=0 PYTHONPATH="$checkout" valgrind --tool=cachegrind \
    --cache-sim=no --cachegrind-out-file=/dev/null "$python" -c "$1" 2>&1) |
    awk '/I +refs:/ {gsub(",", "", $4); print $4}'
}
# Compiled first, so that no run counts compiling a module it imports.
"$python" -m compileall -q "$checkout/narrator" >/dev/null
echo "counting under valgrind: a few minutes for a novel..." >&2
import=$(count "import narrator.report")
total=$(count "from pathlib import Path; import narrator.report as r; r.analyze_input(Path('$text'))")
awk -v i="$import" -v t="$total" 'BEGIN {printf "analyze %.3f G instructions (import %.3f G apart)\n", (t - i) / 1e9, i / 1e9}'
