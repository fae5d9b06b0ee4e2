#!/usr/bin/env bash
# Chromium and chromedriver for the browser test (tests/test_labelstudio_browser.py), from Debian's
# packages `chromium` and `chromium-driver`; scripts/test.sh runs it like `labelstudio.sh install`.
#
#   scripts/chromium.sh    install both unless they are already on PATH (idempotent, quiet when present)
#
# Exit 0 when both are there afterwards; exit 1 with the reason as the last line on stderr when they
# cannot be installed (no apt-get, neither root nor password-less sudo, the packages not found). The
# browser test then skips, giving that reason (scripts/test.sh passes it in SOURCEMARK_NO_CHROMIUM).
set -euo pipefail

say() { echo "chromium.sh: $*" >&2; }
fail() { say "$*"; exit 1; }

have() {
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || return 1
  command -v chromedriver >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromedriver ]
}

if have; then
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || fail "cannot install chromium: no apt-get (install Chromium and its chromedriver by hand)"
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  fail "cannot install chromium: not root and no password-less sudo (run: sudo apt-get install -y chromium chromium-driver)"
fi
apt_install() {
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    chromium chromium-driver >/dev/null
}
say "installing chromium and chromium-driver from the Debian archive (a few minutes)..."
if ! apt_install 2>/dev/null; then
  "${as_root[@]}" apt-get update -q >/dev/null 2>&1 || true  # stale package lists are the usual cause
  apt_install || fail "cannot install chromium: apt-get install chromium chromium-driver failed"
fi
have || fail "chromium or chromedriver still missing after apt-get install"
say "chromium and chromedriver installed"
