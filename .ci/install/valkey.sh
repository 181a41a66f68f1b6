# Valkey 8 (bookworm-backports): the real peer of the download-statistics tests (src/stats/*.test.ts,
# test/e2e/download-stats.test.ts), which start valkey-server on a free loopback port themselves.
# Sourced by .ci/run (which defines apt_install and log); idempotent; also runs on its own: `bash .ci/install/valkey.sh`.
# The backports line is derived from the mirror of the existing `bookworm` entry; no host name is written here.
if ! command -v valkey-server >/dev/null 2>&1; then
  backports=/etc/apt/sources.list.d/bookworm-backports.sources
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; then
    mirror=""
    # deb822 (.sources): the URIs of the stanza whose Suites include plain `bookworm`.
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -e "$f" ] || continue
      mirror=$(awk 'BEGIN{RS=""; FS="\n"} {uris=""; suite=0; for(i=1;i<=NF;i++){ if($i ~ /^URIs:/){sub(/^URIs:[ \t]*/,"",$i); uris=$i} if($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) suite=1 } if(suite && uris!=""){ split(uris,u," "); print u[1]; exit } }' "$f")
      [ -n "$mirror" ] && break
    done
    # One-line format: `deb <uri> bookworm main`.
    if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
      mirror=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list)
    fi
    if [ -z "$mirror" ]; then
      echo "FATAL: no bookworm entry in apt's sources to derive bookworm-backports from" >&2
      return 1 2>/dev/null || exit 1
    fi
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" >"$backports"
  fi
  # apt_install has no target release, hence apt-get directly (after the update the new line needs).
  declare -F log >/dev/null && log "apt-get install -t bookworm-backports valkey-server"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports valkey-server >/dev/null
  # The package starts a system service on 6379; the tests run their own instances, so stop it (if systemd runs it).
  command -v systemctl >/dev/null 2>&1 && systemctl disable --now valkey-server >/dev/null 2>&1 || true
fi
for bin in valkey-server valkey-cli; do
  command -v "$bin" >/dev/null || { echo "FATAL: $bin missing after installing Valkey" >&2; return 1 2>/dev/null || exit 1; }
done
