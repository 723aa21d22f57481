#!/usr/bin/env bash
# The Python 3.14 test environment (current Home Assistant).
#   scripts/py314.sh setup REQUIREMENTS   create or update the venv (no-op when unchanged)
#   scripts/py314.sh run CMD...           run CMD in the project root with that venv first on PATH
#   scripts/py314.sh browser              Playwright and Chromium (/usr/bin/chromium) for the
#                                         real-browser tests (tests/e2e/ha), in the root
# Uses python3.14 from PATH when there is one (venv in .venv314); otherwise a Debian "forky"
# root built once by scripts/forky_root.sh (venv in ROOT/opt/venv), entered with chroot.
set -euo pipefail
project=$(cd "$(dirname "$0")/.." && pwd)
root=${FORKY_ROOT:-$HOME/.cache/somfy_pro/forky}
action=${1:?usage: py314.sh setup REQ | run CMD...}
shift

if command -v python3.14 >/dev/null 2>&1; then
  venv="$project/.venv314"
  case "$action" in
    setup)
      req=$1; stamp="$venv/.req-$(cat "$project"/requirements/*.txt | sha256sum | cut -c1-16)"
      [ -f "$stamp" ] && exit 0
      python3.14 -m venv "$venv"
      "$venv/bin/pip" install -q --upgrade pip
      "$venv/bin/pip" install -q -r "$req"
      rm -f "$venv"/.req-*; touch "$stamp" ;;
    run) cd "$project" && PATH="$venv/bin:$PATH" exec "$@" ;;
    browser) "$venv/bin/pip" install -q "$(grep -h '^playwright' "$project/requirements/dev.txt")" ;;
  esac
  exit 0
fi

"$project/scripts/forky_root.sh" "$root"
mnt="/mnt/project-$$"
cleanup() {
  for m in "$root$mnt" "$root/dev/shm" "$root/dev/pts" "$root/dev" "$root/proc"; do
    if mountpoint -q "$m"; then umount -l "$m" || true; fi
  done
  rmdir "$root$mnt" 2>/dev/null || true
}
trap cleanup EXIT
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
mkdir -p "$root$mnt"
mount --bind "$project" "$root$mnt"
in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 CI="${CI:-}" \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_DEFAULT_TIMEOUT=180 PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin \
    /bin/bash -c "cd $mnt && $1"
}
case "$action" in
  setup)
    req=$1; hash=$(cat "$project"/requirements/*.txt | sha256sum | cut -c1-16)
    [ -f "$root/opt/venv/.req-$hash" ] && exit 0
    in_root "python3.14 -m venv /opt/venv && pip install -q --upgrade pip && pip install -q -r $req && rm -f /opt/venv/.req-* && touch /opt/venv/.req-$hash" ;;
  run) in_root "$(printf '%q ' "$@")" ;;
  browser)
    # Debian's Chromium at the path the tests launch, Leaflet the portal serves, and the
    # Playwright client of requirements/dev.txt (its driver drives that Chromium).
    [ -x "$root/usr/bin/chromium" ] || in_root "apt-get update -q -o Acquire::Check-Valid-Until=false && apt-get install -y -q \
      --no-install-recommends chromium fonts-dejavu-core libjs-leaflet"
    in_root "pip install -q '$(grep -h '^playwright' "$project/requirements/dev.txt")'" ;;
esac
