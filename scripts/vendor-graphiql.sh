#!/usr/bin/env bash
# Re-vendor GraphiQL's browser assets into gateway/app/static/graphiql/ from the npm registry, so the
# gateway serves GraphiQL itself and it works without internet. Pinned versions; each package's
# licence is copied beside its files and VERSIONS records what came from where (with sha256).
# Usage: scripts/vendor-graphiql.sh   (needs npm; commit the result)
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=gateway/app/static/graphiql
PACKAGES=(react@18.3.1 react-dom@18.3.1 graphiql@3.8.3 graphql-ws@5.16.2)
# package  file in the package  name served
FILES=(
  "react umd/react.production.min.js react.production.min.js"
  "react-dom umd/react-dom.production.min.js react-dom.production.min.js"
  "graphiql graphiql.min.js graphiql.min.js"
  "graphiql graphiql.min.css graphiql.min.css"
  "graphql-ws umd/graphql-ws.min.js graphql-ws.min.js"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "${PACKAGES[@]}" >/dev/null)  # npm checks each tarball's integrity
for spec in "${PACKAGES[@]}"; do
  name=${spec%@*}
  mkdir -p "$work/$name"
  tar -xzf "$work/$name-${spec##*@}.tgz" -C "$work/$name"
done

mkdir -p "$DEST"
find "$DEST" -maxdepth 1 -type f ! -name index.html ! -name chargegate.js -delete  # ours stay
{
  echo "# Vendored by scripts/vendor-graphiql.sh from the npm registry; do not edit by hand."
  for spec in "${PACKAGES[@]}"; do echo "$spec"; done
} >"$DEST/VERSIONS"
for entry in "${FILES[@]}"; do
  read -r name source served <<<"$entry"
  cp "$work/$name/package/$source" "$DEST/$served"
  echo "$served $(sha256sum "$DEST/$served" | cut -d' ' -f1) ($name/$source)" >>"$DEST/VERSIONS"
done
for spec in "${PACKAGES[@]}"; do
  name=${spec%@*}
  licence=$(find "$work/$name/package" -maxdepth 1 -iname 'LICEN[CS]E*' | head -n 1)
  cp "$licence" "$DEST/LICENSE.$name"
done
echo "vendored into $DEST:" && ls "$DEST"
