#!/usr/bin/env bash
# Print the path of a headless-capable Chromium, apt-installing Debian's `chromium` when missing.
# Used by the GraphiQL browser test (tests/gateway/test_graphiql.py).
set -euo pipefail

for name in chromium chromium-browser; do
  if command -v "$name" >/dev/null 2>&1; then
    command -v "$name"
    exit 0
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium is not installed and installing it needs root (apt-get install chromium)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium >&2
command -v chromium
