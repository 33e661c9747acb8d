#!/usr/bin/env bash
# down.sh -- stop exactly the processes tests/lab/up.sh started.  Each service
# was started with setsid, so its process group id == the pid recorded in
# $CROSSROOM_LAB_DIR/pids/NAME.pid; we signal that group (parent + its workers)
# and nothing else.  Data and packages are kept; `down.sh --purge` also deletes
# the lab's data/logs/etc and clouds files (the next up.sh starts from scratch).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LAB=${CROSSROOM_LAB_DIR:-$HERE/.lab} PIDS=$LAB/pids
GRACE=${CROSSROOM_LAB_STOP_GRACE:-30}

alive() {  # pid is_group
  if [ "$2" = 1 ]; then pgrep -g "$1" >/dev/null 2>&1; else kill -0 "$1" 2>/dev/null; fi
}

# stop_group NAME... : SIGTERM all of them at once, wait up to $GRACE s, SIGKILL leftovers
stop_group() {
  local name f pid pgid i any
  local -a names=() pids=() grp=()
  for name in "$@"; do
    f=$PIDS/$name.pid
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if ! kill -0 "$pid" 2>/dev/null; then rm -f "$f"; continue; fi
    pgid=$(ps -o pgid= -p "$pid" | tr -d ' ')
    if [ "$pgid" = "$pid" ]; then kill -TERM -- "-$pid" 2>/dev/null; grp+=(1)
    else kill -TERM "$pid" 2>/dev/null; grp+=(0); fi
    names+=("$name"); pids+=("$pid")
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for ((i = 0; i < GRACE * 5; i++)); do
    any=0
    for j in "${!pids[@]}"; do alive "${pids[$j]}" "${grp[$j]}" && any=1; done
    [ "$any" = 0 ] && break
    sleep 0.2
  done
  for j in "${!pids[@]}"; do
    if alive "${pids[$j]}" "${grp[$j]}"; then
      echo "  ${names[$j]}: still alive after ${GRACE}s -> SIGKILL"
      if [ "${grp[$j]}" = 1 ]; then kill -KILL -- "-${pids[$j]}" 2>/dev/null; else kill -KILL "${pids[$j]}" 2>/dev/null; fi
    fi
    rm -f "$PIDS/${names[$j]}.pid"
    echo "  stopped ${names[$j]} (pid ${pids[$j]})"
  done
}

stop_group cinder-volume cinder-scheduler cinder-api nova-compute nova-scheduler \
  nova-conductor nova-api neutron-server glance-api placement keystone
stop_group rabbitmq
stop_group epmd
stop_group mariadb
# anything else up.sh may have recorded
for f in "$PIDS"/*.pid; do [ -e "$f" ] && stop_group "$(basename "$f" .pid)"; done

if [ "${1:-}" = "--purge" ]; then
  rm -rf "$LAB/data" "$LAB/logs" "$LAB/run" "$LAB/etc" "$LAB/wsgi" "$LAB/clouds.yaml" "$LAB/secure.yaml" "$LAB/admin-clouds.yaml" "$LAB/timings.txt"
  echo "  purged data/logs/run/etc"
fi
exit 0
