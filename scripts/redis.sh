#!/usr/bin/env bash
# A throwaway Redis server on loopback, for the multi-replica tests.
#
#   scripts/redis.sh start DIR   install redis-server if missing (apt, as root), start it on 127.0.0.1
#                                on a free port with its config, pidfile and log in DIR (new or empty),
#                                no persistence, a random password; print its redis:// URL on stdout
#   scripts/redis.sh stop DIR    stop that server and delete DIR
#
# Idempotent: a second start of a running DIR prints the same URL. Logs go to stderr and DIR/server.log.
set -euo pipefail

log() { echo "redis.sh: $*" >&2; }

install_redis() {
    [[ $(id -u) -eq 0 ]] || { log "redis-server is not installed and only root can apt-get it"; exit 1; }
    command -v apt-get >/dev/null || { log "redis-server is not installed and there is no apt-get"; exit 1; }
    log "installing redis-server with apt-get (one time)"
    local started=$SECONDS
    export DEBIAN_FRONTEND=noninteractive
    local apt=(apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends)
    # The package would start its own server on port 6379 as a service; forbid service starts
    # during the install (policy-rc.d, as container images do) unless a policy is already there.
    local policy=/usr/sbin/policy-rc.d ours=""
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && ours=1
    fi
    if ! "${apt[@]}" install redis-server >&2; then
        apt-get -q update >&2
        "${apt[@]}" install redis-server >&2 || { [[ -n $ours ]] && rm -f "$policy"; exit 1; }
    fi
    [[ -n $ours ]] && rm -f "$policy"
    log "installed in $((SECONDS - started)) s"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

running() {
    local dir=$1
    [[ -f "$dir/url" && -f "$dir/redis.pid" ]] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null
}

start() {
    local dir=$1
    command -v redis-server >/dev/null || install_redis
    command -v redis-server >/dev/null || { log "no redis-server after install"; exit 1; }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    chmod 700 "$dir"
    if running "$dir"; then
        cat "$dir/url"
        return 0
    fi
    local port password
    port=$(free_port)
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    # The password lives in the config file (mode 600), not on the command line where ps shows it.
    (
        umask 077
        cat >"$dir/redis.conf" <<EOF
bind 127.0.0.1
port $port
protected-mode yes
requirepass $password
dir $dir
pidfile $dir/redis.pid
logfile $dir/server.log
daemonize yes
save ""
appendonly no
EOF
    )
    redis-server "$dir/redis.conf" >&2 || { cat "$dir/server.log" >&2 2>/dev/null; exit 1; }
    local tries=0
    until REDISCLI_AUTH=$password redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; do
        tries=$((tries + 1))
        if ((tries > 200)); then
            log "redis-server did not answer PING within 10 s"
            cat "$dir/server.log" >&2 2>/dev/null || true
            exit 1
        fi
        sleep 0.05
    done
    echo "redis://:$password@127.0.0.1:$port/0" | tee "$dir/url"
}

stop() {
    local dir=$1
    if [[ -f "$dir/redis.pid" ]]; then
        local pid tries=0
        pid=$(cat "$dir/redis.pid")
        kill "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null && ((tries < 100)); do
            sleep 0.05
            tries=$((tries + 1))
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start "${2:?usage: redis.sh start DIR}" ;;
    stop) stop "${2:?usage: redis.sh stop DIR}" ;;
    *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
