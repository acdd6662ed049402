#!/usr/bin/env bash
# Set up Formwright on a fresh Debian/Ubuntu machine: system libraries for Qt,
# a virtualenv in .venv and the project with its test extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Libraries PySide6 needs to run offscreen, the libxcb-* ones Qt's xcb platform plugin
# loads on a desktop (`ldd PySide6/Qt/plugins/platforms/libqxcb.so`), CJK fonts, and
# Xvfb for the real-display smoke test (tests/ui/test_xcb_smoke.py).
DEBIAN_PACKAGES=(libglib2.0-0 libgl1 libegl1 libfontconfig1 libxkbcommon0 libdbus-1-3
  libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1
  libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 fonts-noto-cjk xvfb xauth)

missing=()
if command -v dpkg-query >/dev/null; then
  for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
      || missing+=("$package")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
echo "Formwright is set up in $(pwd)/.venv"
