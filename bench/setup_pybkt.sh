#!/usr/bin/env bash
# Creates .bench-venv (Python 3.11 + bench/requirements-pybkt.txt) for the pyBKT baseline.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec bash "$root/bench/setup_tool_env.sh" pyBKT "$root/.bench-venv" "$root/bench/requirements-pybkt.txt" \
    pyBKT.models "the bench will run without the pyBKT baseline"
