#!/usr/bin/env bash
# smbtorture's smb2.multichannel against Samba's smbd, the way test/interop/multichannel.test.ts
# runs it against smb3d: a fresh network namespace per configuration, smbd on port 445 there with
# `interfaces = 127.0.0.1`, one smbtorture run per test. Prints "CONFIG TEST OUTCOME" lines, to
# put beside the smb3d results (the interop test prints those as diagnostics). Root only.
#   bash scripts/multichannel-smbd.sh [spec|windows|iptables]...   (default: all three)
# TODO: fold into the interop test so the test command runs both servers side by side (issue 4).
set -euo pipefail

ALL="generic.interface_info generic.num_channels oplocks.test1 oplocks.test2 oplocks.test3_windows
oplocks.test3_specification leases.test1 leases.test2 leases.test3 leases.test4 bugs.bug_15346"

run_config() {
  local name=$1 extra=$2 topt=$3 tests=$4
  local ns="smbd-mc-$name-$$" dir
  dir=$(mktemp -d /tmp/smbd-mc-XXXXXX)
  chmod 755 "$dir"
  mkdir -p "$dir"/{private,lock,state,cache,pid,ncalrpc,log,share}
  chown nobody:nogroup "$dir/share"
  echo "nobody = testuser" >"$dir/usermap"
  printf '[global]\n' >"$dir/empty.conf"
  cat >"$dir/smb.conf" <<CONF
[global]
  server role = standalone server
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = 445
  disable netbios = yes
  private dir = $dir/private
  lock directory = $dir/lock
  state directory = $dir/state
  cache directory = $dir/cache
  pid directory = $dir/pid
  ncalrpc dir = $dir/ncalrpc
  log file = $dir/log/log.%m
  passdb backend = tdbsam:$dir/private/passdb.tdb
  username map = $dir/usermap
  guest account = daemon
  map to guest = never
  load printers = no
  printcap name = /dev/null
  disable spoolss = yes
  server multi channel support = yes
$(printf '%b' "$extra")
[share]
  path = $dir/share
  read only = no
CONF
  printf 'Test-Pass1\nTest-Pass1\n' | smbpasswd -c "$dir/smb.conf" -a -s nobody >/dev/null
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # setsid: smbd and every process it forks share one process group, ended below by its id.
  setsid ip netns exec "$ns" /usr/sbin/smbd --foreground --no-process-group -s "$dir/smb.conf" </dev/null >"$dir/log/out" 2>&1 &
  local pid=$!
  sleep 3
  for t in $tests; do
    timeout 120 ip netns exec "$ns" smbtorture -s "$dir/empty.conf" //127.0.0.1/share -U testuser%Test-Pass1 \
      --fullname $topt "smb2.multichannel.$t" >"$dir/$t.out" 2>&1 || true
    local r
    r=$(grep -oE "^(success|failure|error|skip): smb2.multichannel.$t" "$dir/$t.out" | cut -d: -f1 || true)
    echo "$name smb2.multichannel.$t ${r:-notrun}"
  done
  kill -TERM -- "-$pid" 2>/dev/null || true
  sleep 1
  kill -KILL -- "-$pid" 2>/dev/null || true
  ip netns delete "$ns"
  rm -rf "$dir"
}

configs=("$@")
[ ${#configs[@]} -eq 0 ] && configs=(spec windows iptables)
for c in "${configs[@]}"; do
  case "$c" in
    spec) run_config spec '  smbd:FSCTL_SMBTORTURE = yes' '' "$ALL" ;;
    windows) run_config windows '  smbd:FSCTL_SMBTORTURE = yes\n  smb2 disable oplock break retry = yes' '' \
      "oplocks.test1 oplocks.test2 oplocks.test3_windows oplocks.test3_specification" ;;
    iptables) run_config iptables '' '--option=torture:use_iptables=yes' \
      "oplocks.test1 oplocks.test3_specification leases.test1 leases.test2 leases.test3 leases.test4" ;;
    *) echo "unknown configuration $c (spec, windows, iptables)" >&2; exit 2 ;;
  esac
done
