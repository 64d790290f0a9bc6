#!/usr/bin/env bash
# Install the bench's Yoga peer from the committed package-lock.json (exact versions);
# Node.js and npm come from scripts/node.sh (Debian's packages) when missing.
set -euo pipefail
cd "$(dirname "$0")"
../../scripts/node.sh >/dev/null
npm ci --no-audit --no-fund --loglevel=error
