# Sourced by scripts/*: make sure a virtual environment with gokio and its extras exists.
# PYTHON picks the interpreter (default python3), VENV the folder (default .venv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
EXTRAS="${EXTRAS:-test}"
stamp="$VENV/.gokio-installed-$EXTRAS"
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv "$VENV"
fi
pip_install() {  # pip's own exit status; only the index-location warnings are filtered
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" \
    2> >(grep -v '^WARNING: Location' >&2)
}
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing gokio[$EXTRAS] into $VENV"
  pip_install --upgrade pip
  pip_install -e ".[$EXTRAS]"
  touch "$stamp"
fi
