#!/usr/bin/env bash
# Creates a bench tool's own Python 3.11 environment from its pinned requirements file:
#   setup_tool_env.sh NAME VENV REQUIREMENTS MODULE WITHOUT
# NAME names it in messages, MODULE is imported to check it works, WITHOUT says what the bench
# does without it. Idempotent: an environment built from the same requirements file is reused
# as is. Never fails the bench: without the tool the runner reports that part as skipped.
set -u
name="$1" venv="$2" reqs="$3" module="$4" without="$5"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$reqs" | cut -d' ' -f1)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c "import $module" 2>/dev/null; then
    echo "$name environment: reusing $venv"
    exit 0
fi

python="${PYTHON311:-$(command -v python3.11 || true)}"
if [ -z "$python" ]; then
    echo "$name environment: python3.11 not found; $without" >&2
    exit 0
fi

echo "$name environment: creating $venv"
rm -rf "$venv"
if "$python" -m venv "$venv" \
    && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs" \
    && "$venv/bin/python" -c "import $module"; then
    echo "$want" > "$stamp"
    echo "$name environment: ready"
else
    rm -rf "$venv"
    echo "$name environment: installation failed; $without" >&2
fi
exit 0
