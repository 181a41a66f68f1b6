# Debian's Chromium: the real browser of the Registry Explorer tests (test/ui/*.test.ts), driven by the npm
# package playwright-core (a devDependency; it never downloads a browser of its own) with executablePath
# /usr/bin/chromium. Sourced by .ci/run (which defines apt_install and log); idempotent.
apt_install chromium fonts-dejavu-core
if [ ! -x /usr/bin/chromium ]; then
  echo "FATAL: /usr/bin/chromium missing after installing chromium" >&2
  return 1 2>/dev/null || exit 1
fi
log "$(/usr/bin/chromium --version 2>/dev/null || echo 'chromium installed')"
