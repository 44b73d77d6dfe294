#!/usr/bin/env bash
# Refresh constraints.txt, the tested versions of every dependency (run by hand, e.g. monthly):
#   1. clone HEAD into a temporary folder and make a fresh venv there;
#   2. install PerTouch with the NEWEST versions pyproject.toml allows (no constraints; torch and
#      torchvision pinned exactly as in .ci/run, which the README repeats);
#   3. run the tests (default: the whole suite, as CI does);
#   4. only if they pass, write the venv's `pip freeze` (minus PerTouch itself) to constraints.txt.
# Then review `git diff constraints.txt`, run .ci/run, and commit.
#
#   scripts/refresh_lock.sh                           # the full suite
#   PERTOUCH_LOCK_TESTS="tests/memory tests/cli" scripts/refresh_lock.sh   # a subset, for a quick look
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
pins="$(grep -o "torch==[^ ]* torchvision==[^ ]*" "$root/.ci/run" | head -n 1)"
[ -n "$pins" ] || { echo "refresh_lock: no torch pins found in .ci/run" >&2; exit 2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/pertouch-lock.XXXXXX")"
trap 'rm -rf "$work"' EXIT
git clone --quiet "$root" "$work/pertouch"
cd "$work/pertouch"
export PERTOUCH_HOME="$PWD/.home"

python3 -m venv .venv
. .venv/bin/activate
# shellcheck disable=SC2086  # $pins is two words on purpose
pip install --upgrade --upgrade-strategy eager -e '.[dev]' $pins
# shellcheck disable=SC2086
python -m pytest -q -n 2 ${PERTOUCH_LOCK_TESTS:-}

{
    echo "# Tested versions of every dependency (pip constraints), written by scripts/refresh_lock.sh from a venv"
    echo "# whose test suite passed. Used by the README's install line and .ci/run: pip install ... -c constraints.txt"
    echo "# Refresh by hand: scripts/refresh_lock.sh (upgrades in a fresh venv, runs the tests, writes this file)."
    pip freeze --exclude-editable | grep -v -i '^pertouch[= ]' | LC_ALL=C sort -f
} > "$root/constraints.txt.new"
mv "$root/constraints.txt.new" "$root/constraints.txt"
echo "refresh_lock: tests passed; wrote $root/constraints.txt" >&2
git -C "$root" diff --stat -- constraints.txt >&2 || true
