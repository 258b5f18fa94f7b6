#!/usr/bin/env bash
# Creates .venv/bench-locust (Python 3.11 + bench/requirements-locust.txt), the load generator of
# the pages bench (bench/pages_load.py).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec bash "$root/bench/setup_tool_env.sh" locust "$root/.venv/bench-locust" "$root/bench/requirements-locust.txt" \
    locust "the pages bench will skip its server-time part"
