#!/usr/bin/env bash
# The interpreter for the OCPI interop test: extrawest-ocpi (an independent OCPI 2.2.1 library on
# FastAPI) in a virtualenv of its own, because it pins FastAPI 0.101, Starlette 0.27 and pydantic 1,
# which cannot share the project's environment (Starlette 1.x, pydantic 2).
#
#   scripts/ocpi-interop.sh [DIR]   create DIR (default .venv-interop) if missing, install the pinned
#                                   library and uvicorn into it, print DIR/bin/python on stdout
#
# Idempotent: a DIR that already has the library is reused. Logs go to stderr.
set -euo pipefail

dir=${1:-"$(cd "$(dirname "$0")/.." && pwd)/.venv-interop"}
python=${PYTHON:-python3}
pins=(extrawest-ocpi==2025.7.16 "uvicorn>=0.23,<0.30")

if ! "$dir/bin/python" -c "import py_ocpi, uvicorn" 2>/dev/null; then
    echo "ocpi-interop.sh: installing ${pins[*]} into $dir" >&2
    "$python" -m venv "$dir" >&2
    "$dir/bin/python" -m pip install --quiet "${pins[@]}" >&2
fi
echo "$dir/bin/python"
