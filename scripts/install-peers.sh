#!/usr/bin/env bash
# Installs the real SMB peers the interop tests run against (Debian packages):
# smbclient, smbtorture (samba-testsuite), impacket (python3-impacket, for /usr/bin/python3), and
# Samba's smbd with its VFS modules (samba, samba-vfs-modules) for the side-by-side comparison
# and the benchmark, which start their own smbd on a loopback port; iproute2, iptables and nftables
# for the multichannel labs, which cut channels inside their own network namespaces.
# Nothing to do when all are present. Without root or apt-get: under CI=true this is an
# error, elsewhere a warning and the interop tests skip what is missing.
set -euo pipefail

PACKAGES=(smbclient samba-testsuite python3-impacket samba samba-vfs-modules iproute2 iptables nftables)

have_all() {
  command -v smbclient >/dev/null 2>&1 &&
    command -v smbtorture >/dev/null 2>&1 &&
    [ -x /usr/bin/python3 ] &&
    /usr/bin/python3 -c 'import impacket.smbconnection' >/dev/null 2>&1 &&
    [ -x /usr/sbin/smbd ] &&
    [ -e /usr/lib/x86_64-linux-gnu/samba/vfs/io_uring.so ] &&
    command -v ip >/dev/null 2>&1 &&
    [ -x /usr/sbin/iptables ] &&
    [ -x /usr/sbin/nft ]
}

if have_all; then
  echo "install-peers: smbclient, smbtorture, impacket, smbd, ip, iptables and nft are present"
  exit 0
fi

cannot() {
  if [ "${CI:-}" = "true" ]; then
    echo "install-peers: ERROR: $1; CI=true needs ${PACKAGES[*]} installed" >&2
    exit 1
  fi
  echo "install-peers: WARNING: $1; interop tests will skip the missing peers" >&2
  echo "install-peers: as root: apt-get install ${PACKAGES[*]}" >&2
  exit 0
}

if [ "${EUID:-$(id -u)}" -ne 0 ]; then
  cannot "not root, cannot install ${PACKAGES[*]}"
fi
if ! command -v apt-get >/dev/null 2>&1; then
  cannot "apt-get not found"
fi

echo "install-peers: installing ${PACKAGES[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# The samba package would start the system's smbd on port 445; the tests start their own.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  own_policy=true
fi
trap 'if $own_policy; then rm -f "$policy"; fi' EXIT
apt-get install -y --no-install-recommends "${PACKAGES[@]}"

if ! have_all; then
  echo "install-peers: ERROR: installed ${PACKAGES[*]} but a peer is still missing" >&2
  command -v smbclient || echo "  smbclient: missing" >&2
  command -v smbtorture || echo "  smbtorture: missing" >&2
  /usr/bin/python3 -c 'import impacket.smbconnection' || echo "  impacket for /usr/bin/python3: missing" >&2
  [ -x /usr/sbin/smbd ] || echo "  smbd: missing" >&2
  command -v ip >/dev/null || echo "  ip (iproute2): missing" >&2
  [ -x /usr/sbin/iptables ] || echo "  iptables: missing" >&2
  [ -x /usr/sbin/nft ] || echo "  nft (nftables): missing" >&2
  exit 1
fi
echo "install-peers: done"
