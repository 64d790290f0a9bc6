#!/usr/bin/env bash
# Node.js and npm for the federation router (examples/router), from Debian's packages.
#
#   scripts/node.sh    install nodejs and npm with apt-get if node or npm is missing (as root),
#                      then print the path of node on stdout
#
# Idempotent: with both already installed it only prints the path. Logs go to stderr.
set -euo pipefail

log() { echo "node.sh: $*" >&2; }

install_node() {
    [[ $(id -u) -eq 0 ]] || { log "node/npm are not installed and only root can apt-get them"; exit 1; }
    command -v apt-get >/dev/null || { log "node/npm are not installed and there is no apt-get"; exit 1; }
    log "installing nodejs and npm with apt-get (one time)"
    local started=$SECONDS
    export DEBIAN_FRONTEND=noninteractive
    local apt=(apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends)
    local packages=(nodejs)
    command -v npm >/dev/null || packages+=(npm)
    if ! "${apt[@]}" install "${packages[@]}" >&2; then
        apt-get -q update >&2
        "${apt[@]}" install "${packages[@]}" >&2
    fi
    log "installed in $((SECONDS - started)) s"
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    install_node
fi
command -v node >/dev/null || { log "no node after install"; exit 1; }
log "node $(node --version), npm $(npm --version)"
command -v node
