#!/usr/bin/env bash
# Debian's Chromium for the browser tests (GraphiQL served from local assets). Playwright drives
# it through `executable_path`; it never downloads a browser of its own (`playwright install` needs
# the internet, a bank's build machine has a Debian mirror at most).
set -euo pipefail
CHROMIUM=${CLIENTSTRATA_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "installing Chromium from Debian packages…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
"$CHROMIUM" --version 2>/dev/null  # Debian's wrapper script chatters on stderr
