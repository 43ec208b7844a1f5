#!/usr/bin/env bash
# Set up everything the console, the desk service and the tests need, on a fresh
# Debian 12 machine (CI runs as root). Idempotent: a second run installs nothing.
#   scripts/setup.sh            runtime + test dependencies
# Environment: VENV (default .venv), SKIP_APT=1 to skip system packages.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

APT_PACKAGES=(
  pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools swig
  chromium tesseract-ocr tesseract-ocr-eng xvfb
  libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0 libpulse0 libasound2
  fonts-dejavu-core fonts-ocr-b
  postgresql nginx
  binutils  # objdump and strip: PyInstaller and console.spec (the desktop build)
  gcc libc6-dev  # console.spec builds its stand-in libraries (scripts/packaging/*.c)
)

install_system_packages() {
  [ "${SKIP_APT:-0}" = 1 ] && return 0
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing system packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python_ok() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
  local c root=""
  command -v pyenv >/dev/null 2>&1 && root=$(pyenv root)
  for c in "${PYTHON:-}" python3.12 python3.13 \
           ${root:+"$root"/versions/3.12.*/bin/python3.12} ${root:+"$root"/versions/3.13.*/bin/python3.13} \
           "$HOME"/.pyenv/versions/3.12.*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do
    [ -n "$c" ] || continue
    c=$(command -v "$c" 2>/dev/null) || continue
    python_ok "$c" && { echo "$c"; return 0; }
  done
  echo "setup: Python 3.12 or newer is required (PySide6 on 3.11 aborts the interpreter)" >&2
  return 1
}

install_python_packages() {
  if [ ! -x "$VENV/bin/python" ]; then
    local py; py=$(find_python)
    echo "setup: creating $VENV with $py"
    "$py" -m venv "$VENV"
  fi
  # the pinned, hash-checked environment that passed the suite (requirements/lock.txt), then
  # the project itself without resolving anything again
  local stamp="$VENV/.installed-$(cat pyproject.toml requirements/lock.txt | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q --require-hashes -r requirements/lock.txt
    "$VENV/bin/python" -m pip install -q --no-deps -e .
    "$VENV/bin/python" -m pip check
    touch "$stamp"
  fi
}

install_system_packages
install_python_packages
echo "setup: ready ($VENV)"
