#!/usr/bin/env bash
# Idempotent setup on Debian or Ubuntu: system packages, then .venv with rathaus and its dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package; LibreOffice turns letters into PDF, poppler-utils renders PDFs for checks
declare -A NEEDED=(
  [chromium]=chromium
  [chromedriver]=chromium-driver
  [dovecot]=dovecot-imapd
  [soffice]=libreoffice-writer-nogui
  [pdftotext]=poppler-utils
  [tesseract]=tesseract-ocr
)
missing=()
for cmd in "${!NEEDED[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ]; then
    missing+=("${NEEDED[$cmd]}")
  fi
done
# LibreOffice's Python bridge, for one long-lived LibreOffice that converts all letters (unoserver); no command
if ! /usr/bin/python3 -c "import uno" >/dev/null 2>&1; then
  missing+=(python3-uno)
fi
# German language data for OCR has no command of its own
if command -v tesseract >/dev/null 2>&1 && ! tesseract --list-langs 2>/dev/null | grep -qx deu; then
  missing+=(tesseract-ocr-deu)
elif ! command -v tesseract >/dev/null 2>&1; then
  missing+=(tesseract-ocr-deu)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "setup: please install these Debian packages first: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.rathaus-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
  .venv/bin/python -m pip install -q -e ".[dev,controlroom]"
  touch "$stamp"
fi
echo "setup: ready (.venv/bin/rathaus)"
