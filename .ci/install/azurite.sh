# Azurite (Azure Storage emulator) for src/storage/azure.test.ts. It is an npm devDependency (pinned in
# package.json, installed by `bun install`); it runs on Node.js, which the machine image ships. Idempotent.
if ! command -v node >/dev/null; then
  if declare -F apt_install >/dev/null; then
    apt_install nodejs
  else
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs >/dev/null
  fi
fi
command -v node >/dev/null || { echo "FATAL: node is required by azurite" >&2; return 1 2>/dev/null || exit 1; }
