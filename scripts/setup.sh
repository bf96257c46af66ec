#!/usr/bin/env bash
# Set-up for `make setup` (called by `make demo` and `make test`). Idempotent and quick when
# nothing is missing:
#   1. Debian packages: PostgreSQL 15 server + PostGIS 3 (apt-get, only when missing);
#   2. .venv with the project installed editable (re-installed when pyproject.toml changes);
#   3. a PostgreSQL server answering at CADASTRE_DATABASE_URL, or, when nothing answers at
#      the default local address, a project-local cluster under .cadastre/pgdata on its own
#      port (run as the `postgres` OS user when invoked as root);
#   4. `cadastre db init` (creates the database, enables PostGIS, applies migrations).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PG_MAJOR=${PG_MAJOR:-15}
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
LOCAL_PORT=${CADASTRE_LOCAL_PORT:-55432}
STATE=$ROOT/.cadastre
DB_ENV=$STATE/database.env
PYTHON=${PYTHON:-python3}
DEFAULT_URL=postgresql://127.0.0.1:5432/cadastre

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

mkdir -p "$STATE"

# --- 1. Debian packages -------------------------------------------------------------------
# gdal-bin: ogr2ogr, the import benchmark's peer (and the tool that made the DGN fixture);
# fonts-dejavu-core: the Vietnamese-capable font of the PDF receipts.
need_pkgs=()
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for p in "postgresql-$PG_MAJOR" "postgresql-$PG_MAJOR-postgis-3" "postgresql-contrib" gdal-bin \
         fonts-dejavu-core; do
    pkg_installed "$p" || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || die "missing packages ${need_pkgs[*]} and no apt-get: install them by hand"
    [ "$(id -u)" = 0 ] || die "missing packages ${need_pkgs[*]}: run as root or install them with apt-get"
    say "installing ${need_pkgs[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    # Do not let the package scripts start a second cluster on a machine that runs one.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# --- 2. Python virtual environment ---------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    "$PYTHON" -m venv .venv
fi
stamp=$STATE/pip.stamp
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! .venv/bin/python -c 'import cadastre' 2>/dev/null; then
    say "installing the project into .venv (pip install -e '.[dev]')"
    if ! { .venv/bin/python -m pip install -q --upgrade pip \
           && .venv/bin/python -m pip install -q -e '.[dev]'; } > "$STATE/pip.log" 2>&1; then
        tail -30 "$STATE/pip.log" >&2
        die "pip install failed (full log: $STATE/pip.log)"
    fi
    echo "$want" > "$stamp"
fi

# --- 3. A PostgreSQL server --------------------------------------------------------------
# The URL in force: the environment, else the project-local cluster once one was made, else
# the default.
url=${CADASTRE_DATABASE_URL:-}
if [ -z "$url" ] && [ -f "$DB_ENV" ]; then
    url=$(sed -n 's/^CADASTRE_DATABASE_URL=//p' "$DB_ENV")
fi
url=${url:-$DEFAULT_URL}

read -r host port < <("$PYTHON" - "$url" <<'PY'
import sys
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1].replace("postgresql+psycopg2://", "postgresql://"))
print(u.hostname or "127.0.0.1", u.port or 5432)
PY
)

answers() { "$PG_BIN/pg_isready" -q -h "$1" -p "$2" -t 3; }

start_local_cluster() {
    local data=$STATE/pgdata
    local runas=()
    if [ "$(id -u)" = 0 ]; then
        runas=(runuser -u postgres --)
        chown postgres:postgres "$STATE"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        say "creating a project-local PostgreSQL cluster in $data (port $LOCAL_PORT)"
        "${runas[@]}" "$PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 \
            --locale=C.UTF-8 >/dev/null
        cat >> "$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $LOCAL_PORT
unix_socket_directories = '$STATE'
shared_buffers = 512MB
max_wal_size = 4GB
EOF
    fi
    if ! answers 127.0.0.1 "$LOCAL_PORT"; then
        say "starting the project-local cluster (port $LOCAL_PORT; 'make stop' stops it)"
        "${runas[@]}" "$PG_BIN/pg_ctl" -D "$data" -l "$STATE/postgresql.log" -w start >/dev/null \
            || die "the local cluster did not start; see $STATE/postgresql.log"
    fi
    echo "CADASTRE_DATABASE_URL=postgresql://postgres@127.0.0.1:$LOCAL_PORT/cadastre" > "$DB_ENV"
}

if [ -f "$DB_ENV" ] && [ -z "${CADASTRE_DATABASE_URL:-}" ]; then
    start_local_cluster
elif ! answers "$host" "$port"; then
    case "$host" in
        127.0.0.1|localhost|::1|/*)
            if [ -n "${CADASTRE_DATABASE_URL:-}" ] && [ "$url" != "$DEFAULT_URL" ]; then
                die "nothing answers at $host:$port (CADASTRE_DATABASE_URL); start that server, or unset the variable to use a project-local cluster"
            fi
            say "no PostgreSQL answers at $host:$port"
            start_local_cluster
            ;;
        *)
            die "nothing answers at $host:$port (CADASTRE_DATABASE_URL); check the address and that the server runs"
            ;;
    esac
fi

# --- 4. Database, PostGIS, migrations ------------------------------------------------------
.venv/bin/cadastre db init
