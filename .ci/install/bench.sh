# wrk and nginx: test/bench/smoke.test.ts runs `bun run bench` at toy sizes, whose references are nginx serving the
# same bytes and whose load generator is wrk. Sourced by .ci/run; idempotent; also runs on its own.
# shellcheck source=.ci/apt.sh
declare -F apt_install >/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/../apt.sh"
apt_install wrk nginx curl
for bin in wrk nginx curl; do
  command -v "$bin" >/dev/null || { echo "FATAL: $bin missing after installing the bench tools" >&2; return 1 2>/dev/null || exit 1; }
done
