#!/usr/bin/env bash
# Overload through the load harness: the release engine (`upkeep run`, SQLite)
# against Mosquitto, flooded by `device-sim --load` at FACTOR times the
# engine's sustainable rate for FLOOD seconds, then left to drain.
#
# 1. Sustainable rate: two days of telemetry are published to the stopped
#    engine (SIGSTOP); resumed, the rate it acks that backlog at once its
#    detection state is full (past 70% of it) is its sustainable rate S.
# 2. Flood: FACTOR x S (with MARGIN) offered for FLOOD seconds; passes when
#    what was offered is at least FACTOR x what the engine acked meanwhile
#    (its sustainable rate on this very stream). Every 5 s: RSS, acks per
#    second, messages held, intake paused, MQTT connection errors, and the
#    backlog at the broker (published - acked).
# 3. Drain: the rate the backlog drains at for a minute, against the
#    flood's ack rate; then the quota is lifted to finish.
# 4. SIGTERM in the middle of a second flood: how long the engine takes.
# It fails (exit 1) when RSS passes RSS_CEILING_MB, a connection error is
# logged, acks stand still for a whole sample, the drain is slower than
# 0.8x the flood's ack rate or SIGTERM takes 10 s or more.
#
# On this 2-core box one publisher offers about 1.1x what the release engine
# takes with a core of its own, so the engine runs under a CPU quota
# (ENGINE_CPU, a share of one core, through a cgroup; needs root): the quota
# sets S, and the flood is FACTOR x that S. ENGINE_CPU=0 runs it unlimited.
#
# Usage: benches/overload.sh [ASSETS [FLOOD_SECONDS [FACTOR]]]   (default 1000 60 5)
# Env:   ENGINE_CPU (default 0.15), RSS_CEILING_MB (default 256), MARGIN (the
#        offered rate over FACTOR x S, per cent; default 150)
# Needs: cargo build --release; Mosquitto on 127.0.0.1:18883 as .ci/run
# starts it (max_inflight_messages 100, max_queued_messages 0).
set -euo pipefail
cd "$(dirname "$0")/.."
assets=${1:-1000}
flood=${2:-60}
factor=${3:-5}
margin=${MARGIN:-150}
cpu=${ENGINE_CPU:-0.15}
ceiling=${RSS_CEILING_MB:-256}
dir=$(mktemp -d)
cgroup=""
failures=()
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  if [ -n "$cgroup" ]; then
    for p in $(cat "$cgroup/cgroup.procs" 2>/dev/null); do echo "$p" > "$(dirname "$cgroup")/cgroup.procs" 2>/dev/null || true; done
    rmdir "$cgroup" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
./target/release/upkeep fleet generate --assets "$assets" --out "$dir/fleet.json" >/dev/null
prefix="overload-$$"
# The engine's log outlives the run.
log=/tmp/overload-engine-$$.log
api=127.0.0.1:18091
broker=mqtt://127.0.0.1:18883

# A cgroup giving its processes $cpu of one core (v2 cpu.max, else v1 CFS quota).
make_cgroup() {
  local quota
  quota=$(awk -v c="$cpu" 'BEGIN { printf "%d", c * 100000 }')
  if grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    cgroup=/sys/fs/cgroup/upkeep-overload-$$
    mkdir "$cgroup" && echo "$quota 100000" > "$cgroup/cpu.max"
  else
    cgroup=/sys/fs/cgroup/cpu/upkeep-overload-$$
    mkdir "$cgroup" && echo 100000 > "$cgroup/cpu.cfs_period_us" && echo "$quota" > "$cgroup/cpu.cfs_quota_us"
  fi
}

start_engine() {
  env UPKEEP__MQTT__URL=$broker UPKEEP__MQTT__CLIENT_ID="$prefix" \
    UPKEEP__MQTT__TOPIC_FILTER="$prefix/telemetry/+" UPKEEP__FLEET__PATH="$dir/fleet.json" \
    UPKEEP__DATABASE__URL="sqlite://$dir/engine.db" UPKEEP__API__LISTEN=$api RUST_LOG=info \
    ./target/release/upkeep run >>"$log" 2>&1 &
  engine=$!
  [ -n "$cgroup" ] && echo "$engine" > "$cgroup/cgroup.procs"
  for _ in $(seq 1 100); do
    [ "$(metric upkeep_mqtt_subscribed "$(curl -s --max-time 1 "http://$api/metrics" || true)")" = 1 ] && return
    sleep 0.2
  done
  echo "engine did not subscribe" >&2; tail "$log" >&2; exit 1
}

metric() { grep "^$1 " <<<"$2" | cut -d' ' -f2; }

# acked received held paused errors rss_kib
sample() {
  local m rss
  m=$(curl -s --max-time 1 "http://$api/metrics" || true)
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$engine/status")
  echo "$(metric upkeep_messages_acked_total "$m") $(metric upkeep_messages_received_total "$m") \
$(metric upkeep_held_messages "$m") $(metric upkeep_intake_paused "$m") $(metric upkeep_mqtt_errors_total "$m") $rss"
}

acked_now() { sample | cut -d' ' -f1; }

# Resident KiB of the Mosquitto that listens on the broker's port (where the backlog waits).
broker_rss() {
  local pid
  pid=$(ss -ltnpH "sport = :${broker##*:}" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)
  awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0
}

# publish START SECONDS RATE LOG: device-sim --load in the background ($sim),
# from event time START (each run starts after the last one's readings, or
# detection would count them late and skip their work); RATE "" = at most.
publish() {
  local rate=()
  [ -n "$3" ] && rate=(--rate "$3")
  ./target/release/device-sim --load --fleet "$dir/fleet.json" --broker $broker --start "$1" \
    --topic-prefix "$prefix/telemetry" --duration "$2s" "${rate[@]}" >"$4" 2>&1 &
  sim=$!
}

# Event time N days back (decode refuses readings over a year old).
days_ago() { date -u -d "-$1 days" +%Y-%m-%dT00:00:00Z; }

published_by() { sed -n 's/^done: \([0-9]*\) messages.*/\1/p' "$1"; }

if [ "$cpu" != 0 ]; then make_cgroup; fi
start_engine
echo "engine: ${cpu} of a core (0 = unlimited), RSS ceiling ${ceiling} MiB, $assets assets, log $log"

# 1. Sustainable rate: two days of every asset's telemetry are published to
#    the stopped engine; resumed, it works through them, and once its
#    windows, baselines and statistics are full (past 70% of the backlog)
#    the rate it acks at is its sustainable rate.
kill -STOP "$engine"
./target/release/device-sim --fleet "$dir/fleet.json" --broker $broker --start "$(days_ago 300)" --days 2 \
  --topic-prefix "$prefix/telemetry" >"$dir/prefill.log" 2>&1
prefill=$(published_by "$dir/prefill.log")
kill -CONT "$engine"
waited=0
while [ "$(acked_now)" -lt $((prefill * 7 / 10)) ]; do
  sleep 1
  waited=$((waited + 1))
  [ "$waited" -lt 600 ] || { echo "the engine acked under 70% of the prefill ($prefill) in 600 s" >&2; exit 1; }
done
a0=$(acked_now)
sleep 15
a1=$(acked_now)
rate=$(((a1 - a0) / 15))
[ "$a1" -lt "$prefill" ] || { echo "the prefill ($prefill) drained before the measurement ended" >&2; exit 1; }
echo "sustainable rate: $rate msgs/s (a backlog of $prefill acked from $a0 to $a1 in 15 s)"
base=$prefill

# 2. Flood at FACTOR x the sustainable rate.
# Offered with a margin: the engine's rate moves with the stream (tickets
# opening, windows filling); the factor is judged against the rate it
# actually acks at during the flood.
offer=$((rate * factor * margin / 100))
publish "$(days_ago 298)" "$flood" "$offer" "$dir/sim.log"
echo "flood: $offer msgs/s (${factor}x the sustainable rate with a margin of ${margin}%) for ${flood}s"
printf '%6s %10s %9s %6s %6s %7s %8s %9s %10s\n' t_s acked acks/s held paused errors rss_mb backlog broker_mb
# Wall-clock milliseconds: a sample takes a while when the engine has little CPU.
ms() { echo $(($(date +%s%N) / 1000000)); }
start_ms=$(ms)
prev=$(acked_now)
prev_ms=$start_ms
flood_from=$prev
published=""
peak=0
lifted=""
while :; do
  sleep 5
  read -r acked received held paused errors rss < <(sample)
  now=$(ms)
  t=$(((now - start_ms) / 1000))
  per_s=$(((acked - prev) * 1000 / (now - prev_ms)))
  if [ -z "$published" ]; then
    backlog="~$((base + offer * t - acked))"
  else
    backlog=$((published - acked))
  fi
  printf '%6d %10d %9d %6s %6s %7s %8d %9s %10d\n' "$t" "$acked" "$per_s" "$held" "$paused" "$errors" \
    $((rss / 1024)) "$backlog" $(($(broker_rss) / 1024))
  peak=$((rss > peak ? rss : peak))
  [ "$acked" -gt "$prev" ] || failures+=("acks stood still in the sample before t=${t}s")
  prev=$acked
  prev_ms=$now
  if [ -z "$published" ] && ! kill -0 "$sim" 2>/dev/null; then
    wait "$sim" || true
    published=$((base + $(published_by "$dir/sim.log")))
    echo "flood over at ${t}s: $(grep -E '^(done|sustained):' "$dir/sim.log" | tr '\n' ' ')"
    sustained=$(sed -n 's/^sustained: \([0-9]*\) messages.*/\1/p' "$dir/sim.log")
    flood_rate=$(((acked - flood_from) * 1000 / (now - start_ms)))
    echo "offered $sustained msgs/s against $flood_rate acked: $(echo "scale=2; $sustained / $flood_rate" | bc)x"
    [ "$sustained" -ge $((flood_rate * factor)) ] || failures+=("offered $sustained msgs/s, under ${factor}x the $flood_rate acked")
    # Held back, not broken: under the flood the engine still acks at half
    # its calibrated rate or more (calibrations ran 0.7-1.4x the flood's).
    [ $((flood_rate * 2)) -ge "$rate" ] || failures+=("acked $flood_rate msgs/s during the flood, under half the calibrated $rate")
    drain_from=$acked
    drain_ms=$now
  fi
  done_now=""
  [ -n "$published" ] && [ "$acked" -ge "$published" ] && done_now=yes
  # The drain rate is measured under the quota for a minute; then the quota
  # is lifted so that a long flood's backlog does not take hours.
  if [ -n "$published" ] && [ -z "$lifted" ] && { [ $((now - drain_ms)) -ge 60000 ] || [ -n "$done_now" ]; }; then
    drained=$(((acked - drain_from) * 1000 / (now - drain_ms > 0 ? now - drain_ms : 1)))
    echo "backlog drained at $drained msgs/s for $(((now - drain_ms) / 1000)) s after the flood ($flood_rate during it)"
    [ "$drained" -ge $((flood_rate * 8 / 10)) ] || failures+=("drained at $drained msgs/s, under 0.8x the $flood_rate acked during the flood")
    [ -n "$cgroup" ] && { echo "$engine" > "$(dirname "$cgroup")/cgroup.procs"; echo "quota lifted to finish the drain"; }
    lifted=yes
  fi
  if [ -n "$done_now" ]; then
    echo "drained at ${t}s: $acked acked of $published published"
    break
  fi
  [ "$t" -ge $((flood * factor + 600)) ] && { failures+=("not drained after ${t}s"); break; }
done
errors=$(grep -c "MQTT connection error" "$log" || true)
echo "peak RSS $((peak / 1024)) MiB; connection errors logged: $errors"
[ $((peak / 1024)) -le "$ceiling" ] || failures+=("peak RSS $((peak / 1024)) MiB over the ceiling of $ceiling")
[ "$errors" = 0 ] || failures+=("$errors connection errors")

# 4. SIGTERM in the middle of a flood, under the quota again.
[ -n "$cgroup" ] && echo "$engine" > "$cgroup/cgroup.procs"
publish "$(days_ago 60)" 30 "$offer" /dev/null
sleep 10
t0=$(date +%s.%N)
kill -TERM "$engine"
wait "$engine" || true
took=$(echo "$(date +%s.%N) - $t0" | bc)
echo "SIGTERM under load: engine stopped in $took s"
[ "$(echo "$took < 10" | bc)" = 1 ] || failures+=("SIGTERM took $took s")

if [ ${#failures[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failures[@]}"
  exit 1
fi
echo "passed"
