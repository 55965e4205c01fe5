# Sourced by the scripts: make sure ./.venv exists with unionbot installed.
# $1 is "serve" (the program) or "test" (the program and the test tools).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"
HASH="$(sha1sum "$ROOT/pyproject.toml" | cut -c1-12)"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$VENV/.installed-$HASH-test" ] && [ ! -f "$VENV/.installed-$HASH-$1" ]; then
    echo "Installing unionbot and its dependencies into .venv ..." >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    target="$ROOT"
    [ "$1" = test ] && target="$ROOT[test]"
    "$VENV/bin/python" -m pip install --quiet -e "$target"
    rm -f "$VENV"/.installed-*
    touch "$VENV/.installed-$HASH-$1"
fi
