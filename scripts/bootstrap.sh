#!/usr/bin/env bash
# Build .venv from nothing: the project's own set-up installs everything it needs,
# so a fresh machine with only Python 3 gets a working service and test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
VENV=.venv

# System packages the project needs and PyPI cannot provide:
#  - a CJK font so QR posters render Chinese text (Pillow draws with it),
#  - Debian's Chromium for the console's browser tests (Playwright cannot download its own here).
need=()
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing system packages: ${need[*]}"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    else
        echo "bootstrap: warning: missing ${need[*]} (need root + apt-get); posters/browser tests will skip" >&2
    fi
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# compat mode: a .pth puts the project root on sys.path, so every top-level package
# (bot/, handlers/, ...) imports from the working tree, including ones added later.
"$VENV/bin/python" -m pip install -q -e ".[test]" --config-settings editable_mode=compat
touch "$VENV/.bootstrapped"
echo "bootstrap: .venv ready"
