#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a browser download): install it if missing.
set -u
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
  echo "chromium is missing and cannot be installed here: browser tests will skip (CI fails)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
packages="chromium chromium-driver fonts-noto-cjk"
apt-get install -y -q $packages >/dev/null 2>&1 \
  || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $packages >/dev/null; }
