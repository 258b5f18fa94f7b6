#!/usr/bin/env bash
# Creates .bench-venv (Python 3.11 + bench/requirements-pybkt.txt) for the pyBKT baseline.
# Idempotent: an environment built from the same requirements file is reused as is.
# Never fails the bench: if pyBKT cannot be installed the runner reports it as unavailable.
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.bench-venv"
reqs="$root/bench/requirements-pybkt.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$reqs" | cut -d' ' -f1)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c "import pyBKT.models" 2>/dev/null; then
    echo "pyBKT environment: reusing $venv"
    exit 0
fi

python="${PYTHON311:-$(command -v python3.11 || true)}"
if [ -z "$python" ]; then
    echo "pyBKT environment: python3.11 not found; the bench will run without the pyBKT baseline" >&2
    exit 0
fi

echo "pyBKT environment: creating $venv"
rm -rf "$venv"
if "$python" -m venv "$venv" \
    && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs" \
    && "$venv/bin/python" -c "import pyBKT.models"; then
    echo "$want" > "$stamp"
    echo "pyBKT environment: ready"
else
    rm -rf "$venv"
    echo "pyBKT environment: installation failed; the bench will run without the pyBKT baseline" >&2
fi
exit 0
