# test/security/disk-and-files.test.ts replays a full disk on a small tmpfs: it needs mount(8) and root (as CI
# runs here). Without root that test fails with the reason; it is never skipped. Sourced by .ci/run; idempotent.
if ! declare -F apt_install >/dev/null; then
  apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  }
fi
apt_install mount util-linux
if [ "$(id -u)" != 0 ]; then
  echo "WARNING: not root: test/security/disk-and-files.test.ts cannot mount its tmpfs and will fail" >&2
fi
