# Deno (the second runtime of issue #18): the npm package `deno` ships the real binary (its optional dependency
# @deno/linux-x64-glibc). Installed, pinned, into .tmp/deno; test/deno/*.test.ts run it from there (DENO_BIN).
# Sourced by .ci/run (which defines log); idempotent; also runs on its own: `bash .ci/install/deno.sh`.
DENO_VERSION=2.9.6
deno_prefix="$(pwd)/.tmp/deno"
deno_bin="$deno_prefix/node_modules/.bin/deno"
if ! [ -x "$deno_bin" ] || [ "$("$deno_bin" --version 2>/dev/null | head -n1 | cut -d' ' -f2)" != "$DENO_VERSION" ]; then
  if declare -F log >/dev/null; then log "installing deno $DENO_VERSION from npm"; fi
  mkdir -p "$deno_prefix"
  npm install --prefix "$deno_prefix" --no-save --no-audit --no-fund --silent "deno@$DENO_VERSION" >/dev/null \
    || { echo "FATAL: npm install deno@$DENO_VERSION failed" >&2; return 1 2>/dev/null || exit 1; }
fi
if [ "$("$deno_bin" --version 2>/dev/null | head -n1 | cut -d' ' -f2)" != "$DENO_VERSION" ]; then
  echo "FATAL: $deno_bin is not deno $DENO_VERSION" >&2
  return 1 2>/dev/null || exit 1
fi
export DENO_BIN="$deno_bin"
