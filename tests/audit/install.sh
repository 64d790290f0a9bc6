#!/usr/bin/env bash
# Install the graphql-http audit suite from the committed package-lock.json (exact versions).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
