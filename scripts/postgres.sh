#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback, for the ledger's store tests.
#
#   scripts/postgres.sh start DIR   install PostgreSQL if missing (apt, as root), create a cluster in
#                                   DIR (new or empty), start it on 127.0.0.1 on a free port and print
#                                   its postgresql+asyncpg:// URL (role with CREATEDB) on stdout
#   scripts/postgres.sh stop DIR    stop that cluster and delete DIR
#
# Idempotent: a second start of a running DIR prints the same URL. Logs go to stderr and DIR/server.log.
# Root cannot run postgres, so as root the cluster belongs to the `postgres` user (created by the
# package). Durability is switched off (fsync, synchronous_commit): the data is disposable.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

find_bin() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && { echo "$dir"; return 0; }
    done
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

install_postgres() {
    [[ $(id -u) -eq 0 ]] || { log "PostgreSQL is not installed and only root can apt-get it"; exit 1; }
    command -v apt-get >/dev/null || { log "PostgreSQL is not installed and there is no apt-get"; exit 1; }
    log "installing PostgreSQL with apt-get (one time)"
    local started=$SECONDS
    export DEBIAN_FRONTEND=noninteractive
    local apt=(apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends)
    # postgresql-common first, so the package's own default cluster (and its service) is never made.
    if ! "${apt[@]}" install postgresql-common >&2; then
        apt-get -q update >&2
        "${apt[@]}" install postgresql-common >&2
    fi
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/chargegate.conf
    "${apt[@]}" install postgresql >&2
    log "installed in $((SECONDS - started)) s"
}

as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local dir=$1
    local bin
    bin=$(find_bin) || { install_postgres; bin=$(find_bin); } || { log "no initdb after install"; exit 1; }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
    chmod 700 "$dir"
    if [[ -f "$dir/url" ]] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        cat "$dir/url"
        return 0
    fi
    if [[ ! -d "$dir/data" ]]; then
        local password
        password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
        echo "$password" >"$dir/password"
        if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir/password"; fi
        as_owner "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C --no-sync \
            --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    local port
    port=$(free_port)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        >&2 || { cat "$dir/server.log" >&2; exit 1; }
    local password
    password=$(cat "$dir/password")
    local psql=("$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt)
    if [[ $(as_owner "${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'chargegate'") != 1 ]]; then
        as_owner "${psql[@]}" -c "CREATE ROLE chargegate LOGIN CREATEDB PASSWORD '$password'"
        as_owner "${psql[@]}" -c "CREATE DATABASE chargegate OWNER chargegate"
    fi
    echo "postgresql+asyncpg://chargegate:$password@127.0.0.1:$port/chargegate" | tee "$dir/url"
}

stop() {
    local dir=$1
    local bin
    if [[ -d "$dir/data" ]] && bin=$(find_bin); then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start "${2:?usage: postgres.sh start DIR}" ;;
    stop) stop "${2:?usage: postgres.sh stop DIR}" ;;
    *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
