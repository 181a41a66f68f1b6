# test/security/disk-and-files.test.ts replays a full disk on a small tmpfs: it needs mount(8) and root (as CI
# runs here). Without root that test fails with the reason; it is never skipped. Sourced by .ci/run; idempotent.
# shellcheck source=.ci/apt.sh
declare -F apt_install >/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/../apt.sh"
apt_install mount util-linux
if [ "$(id -u)" != 0 ]; then
  echo "WARNING: not root: test/security/disk-and-files.test.ts cannot mount its tmpfs and will fail" >&2
fi
