# docs/asyncapi.yaml's checker (test/e2e/asyncapi/check.js) and its npm packages, pinned
# in test/e2e/asyncapi/package-lock.json and installed with `npm ci` once into the cache
# (a folder named after the lock's hash: a new pin makes a new one, a later run
# downloads nothing). Sourced after lib.sh.
ASYNCAPI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/asyncapi" && pwd)
command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "node and npm are needed (./dev.sh installs them)" >&2; exit 1; }
ASYNCAPI_CACHE=${FLASHSALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flashsale}/asyncapi-$(
  cat "$ASYNCAPI_DIR/package.json" "$ASYNCAPI_DIR/package-lock.json" | sha256sum | cut -c1-12)
if [[ ! -f $ASYNCAPI_CACHE/complete ]]; then
  echo "installing @asyncapi/parser and ajv into $ASYNCAPI_CACHE (once)"
  rm -rf "$ASYNCAPI_CACHE.tmp"
  mkdir -p "$ASYNCAPI_CACHE.tmp"
  cp "$ASYNCAPI_DIR/package.json" "$ASYNCAPI_DIR/package-lock.json" "$ASYNCAPI_CACHE.tmp/"
  (cd "$ASYNCAPI_CACHE.tmp" && npm ci --no-audit --no-fund --loglevel=error >&2)
  touch "$ASYNCAPI_CACHE.tmp/complete"
  rm -rf "$ASYNCAPI_CACHE"
  mv "$ASYNCAPI_CACHE.tmp" "$ASYNCAPI_CACHE"
fi
# asyncapi_check MODE [ARGS]: check.js against the source tree's docs/asyncapi.yaml.
asyncapi_check() {
  NODE_PATH="$ASYNCAPI_CACHE/node_modules" node "$ASYNCAPI_DIR/check.js" \
    "${FLASHSALE_SOURCE_DIR:-$ASYNCAPI_DIR/../../..}/docs/asyncapi.yaml" "$@"
}
