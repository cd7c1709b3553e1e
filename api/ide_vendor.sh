#!/usr/bin/env bash
# Refreshes the GraphiQL page's assets in api/static/vendor/ from the npm registry (run by hand when
# upgrading; the build and the tests never run it). Why vendored, not copied at build time: the
# wheel must carry the IDE onto an intranet with no CDN, and a bank's Python build machine often
# has no npm; four pinned minified files (≈1.6 MB, no source maps) with their licences are leaner
# than a node toolchain in the build. GraphiQL 4 is the last major that ships a UMD bundle usable
# without a bundler (5.x is ESM + Monaco workers only); React 18 is the last with UMD builds.
set -euo pipefail
cd "$(dirname "$0")/static"
GRAPHIQL=${GRAPHIQL:-4.1.2}
REACT=${REACT:-18.3.1}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for pkg in "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT"; do
  (cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
done
rm -rf vendor && mkdir -p vendor/graphiql vendor/react vendor/react-dom
tar xzf "$tmp/graphiql-$GRAPHIQL.tgz" -C "$tmp" package/graphiql.min.js package/graphiql.min.css package/LICENSE
# the source map is not shipped, so the reference to it would only produce a 404 in DevTools
sed '/^\/\/# sourceMappingURL=/d' "$tmp/package/graphiql.min.js" > vendor/graphiql/graphiql.min.js
cp "$tmp/package/graphiql.min.css" "$tmp/package/LICENSE" vendor/graphiql/
rm -rf "$tmp/package"
tar xzf "$tmp/react-$REACT.tgz" -C "$tmp" package/umd/react.production.min.js package/LICENSE
cp "$tmp/package/umd/react.production.min.js" "$tmp/package/LICENSE" vendor/react/
rm -rf "$tmp/package"
tar xzf "$tmp/react-dom-$REACT.tgz" -C "$tmp" package/umd/react-dom.production.min.js package/LICENSE
cp "$tmp/package/umd/react-dom.production.min.js" "$tmp/package/LICENSE" vendor/react-dom/
{
  echo "# npm packages these files come from (api/ide_vendor.sh), and their SHA-256"
  echo "graphiql@$GRAPHIQL react@$REACT react-dom@$REACT"
  (cd vendor && sha256sum */*.js */*.css)
} > vendor/VERSIONS
cat vendor/VERSIONS
