#!/usr/bin/env bash
# Creates .venv/bench-locust (Python 3.11 + bench/requirements-locust.txt), the load generator of
# the pages bench (bench/pages_load.py). Idempotent: an environment built from the same
# requirements file is reused as is. Never fails the bench: without locust the server-time part
# is reported as skipped.
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv/bench-locust"
reqs="$root/bench/requirements-locust.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$reqs" | cut -d' ' -f1)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c "import locust" 2>/dev/null; then
    echo "locust environment: reusing $venv"
    exit 0
fi

python="${PYTHON311:-$(command -v python3.11 || true)}"
if [ -z "$python" ]; then
    echo "locust environment: python3.11 not found; the pages bench will skip its server-time part" >&2
    exit 0
fi

echo "locust environment: creating $venv"
rm -rf "$venv"
if "$python" -m venv "$venv" \
    && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs" \
    && "$venv/bin/python" -c "import locust"; then
    echo "$want" > "$stamp"
    echo "locust environment: ready"
else
    rm -rf "$venv"
    echo "locust environment: installation failed; the pages bench will skip its server-time part" >&2
fi
exit 0
