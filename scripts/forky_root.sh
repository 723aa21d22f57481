#!/usr/bin/env bash
# Build (once) a Debian "forky" root with Python 3.14, used when python3.14 is not on PATH.
# Usage: scripts/forky_root.sh ROOT   (needs root and debootstrap; about 35 s)
set -euo pipefail
root=${1:?usage: forky_root.sh ROOT}
[ -x "$root/usr/bin/python3.14" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "Building the Python 3.14 root needs root (debootstrap, chroot); or put python3.14 on PATH." >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "debootstrap missing: apt-get install debootstrap" >&2; exit 1; }
mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1)
[ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
rm -rf "$root.partial"
mkdir -p "$(dirname "$root")"
debootstrap --variant=minbase --include=python3.14,python3.14-venv,ca-certificates \
  forky "$root.partial" "$mirror" /usr/share/debootstrap/scripts/sid
mv "$root.partial" "$root"
