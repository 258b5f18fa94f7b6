#!/usr/bin/env bash
# make audit: pip-audit over every pinned package (requirements-dev.txt holds the runtime's pins
# too), offline from pip: the hashed pins are the whole list, nothing is resolved or installed.
# pip-audit asks a vulnerability service about each release, PyPI's JSON API by default
# (AUDIT_SERVICE=osv for OSV). Where that service cannot be reached, as from our own machines,
# this fails at once or after AUDIT_TIMEOUT seconds, saying so: make test and CI never run it.
set -u
cd "$(dirname "$0")/.."
service="${AUDIT_SERVICE:-pypi}" limit="${AUDIT_TIMEOUT:-300}" reqs=requirements-dev.txt
pip_pin="$(grep -m1 -o '^pip==[^ ]*' requirements.txt | cut -d= -f3)"

# One question the service must answer, so that "unreachable" is not reported as every package
# being unknown to it.
if ! .venv/bin/python - "$service" "$pip_pin" <<'PY'
import json, sys, urllib.request

service, version = sys.argv[1], sys.argv[2]
if service == "osv":
    query = {"package": {"name": "pip", "ecosystem": "PyPI"}, "version": version}
    request = urllib.request.Request("https://api.osv.dev/v1/query", data=json.dumps(query).encode())
else:
    request = urllib.request.Request(f"https://pypi.org/pypi/pip/{version}/json")
try:
    urllib.request.urlopen(request, timeout=15).close()
except Exception as error:
    print(f"make audit: the {service} vulnerability service does not answer from this machine"
          f" ({request.full_url}: {error}); nothing was audited", file=sys.stderr)
    sys.exit(1)
PY
then
    exit 2
fi

timeout "$limit" .venv/bin/pip-audit --vulnerability-service "$service" --strict --disable-pip \
    --require-hashes --progress-spinner off --timeout 30 -r "$reqs"
rc=$?
if [ "$rc" = 124 ]; then
    echo "make audit: no complete answer from the $service vulnerability service within ${limit} s; nothing was audited" >&2
fi
exit "$rc"
