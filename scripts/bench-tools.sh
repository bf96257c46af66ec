#!/usr/bin/env bash
# Tools for `make bench` only: wrk (HTTP load, Debian) and the peers' own environments
# (tipg with uvicorn[standard], installed the way its users deploy it, beside ours).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
fi
if [ ! -x .cadastre/venv-tipg/bin/uvicorn ]; then
    python3 -m venv .cadastre/venv-tipg
    .cadastre/venv-tipg/bin/pip install -q tipg 'uvicorn[standard]' > .cadastre/venv-tipg.log 2>&1
fi
