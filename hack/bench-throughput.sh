#!/usr/bin/env bash
# Measures the built collector's throughput with and without the veltrim
# processor in the same pipeline (testdata/collector/bench-baseline.yaml and
# bench-veltrim.yaml), driven by veltrim-loadgen over OTLP/gRPC on loopback.
#
# Each run starts a fresh collector, sends a warm-up load, then the measured
# load of BENCH_SPANS unique spans, and waits until the debug exporter has
# sent every span. It reports:
#   spans/s            measured spans / seconds from the first send to the last export
#   CPU s per 1M spans the collector process's user+system CPU time over the
#                      measured load (/proc/<pid>/stat), scaled to a million spans
# Runs alternate between the two pipelines; the summary is the median of
# BENCH_ROUNDS runs each.
#
# Environment: BENCH_SPANS (default 1000000), BENCH_WARMUP_SPANS (100000),
# BENCH_ROUNDS (3), BENCH_WORKERS (2), BENCH_BATCH (500).
# Needs _build/otelcol-veltrim and _build/veltrim-loadgen (make build loadgen).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
collector="${VELTRIM_COLLECTOR:-${root}/_build/otelcol-veltrim}"
loadgen="${VELTRIM_LOADGEN:-${root}/_build/veltrim-loadgen}"
spans="${BENCH_SPANS:-1000000}"
warmup_spans="${BENCH_WARMUP_SPANS:-100000}"
rounds="${BENCH_ROUNDS:-3}"
workers="${BENCH_WORKERS:-2}"
batch="${BENCH_BATCH:-500}"
# How long one wait for the collector may take, in tenths of a second.
wait_limit=1200

for binary in "${collector}" "${loadgen}"; do
  if [[ ! -x "${binary}" ]]; then
    echo "bench-throughput: ${binary} is missing; run 'make build loadgen' first" >&2
    exit 1
  fi
done

work="$(mktemp -d)"
collector_pid=""
cleanup() {
  if [[ -n "${collector_pid}" ]]; then
    kill -TERM "${collector_pid}" 2>/dev/null || true
    wait "${collector_pid}" 2>/dev/null || true
  fi
  rm -rf "${work}"
}
trap cleanup EXIT

clock_ticks="$(getconf CLK_TCK)"

# free_port prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# cpu_ticks prints the user+system CPU time of a process in clock ticks
# (fields 14 and 15 of /proc/<pid>/stat, counted after the command name).
cpu_ticks() {
  sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# sent_spans prints the spans the debug exporter has sent, from the
# collector's own metrics.
sent_spans() {
  curl -sf "http://127.0.0.1:$1/metrics" |
    awk '/^otelcol_exporter_sent_spans(_total)?\{.*exporter="debug"/ {sum += $NF} END {printf "%d\n", sum}'
}

# wait_for runs the command until it succeeds, at most wait_limit times,
# 0.1 s apart, and fails the script with the message otherwise.
wait_for() {
  local message="$1"
  shift
  for ((i = 0; i < wait_limit; i++)); do
    if "$@"; then
      return 0
    fi
    sleep 0.1
  done
  echo "bench-throughput: timed out waiting for ${message}" >&2
  tail -20 "${work}/collector.log" >&2
  exit 1
}

healthy() { curl -sf -o /dev/null "http://127.0.0.1:$1/"; }
all_sent() { [[ "$(sent_spans "$1")" -ge "$2" ]]; }

# run_once runs one pipeline and sets result_rate (spans/s) and result_cpu
# (CPU seconds per million spans). It runs in this shell, not a subshell, so
# the exit trap can stop the collector it started.
run_once() {
  local config="$1"
  local otlp_port health_port metrics_port
  otlp_port="$(free_port)"
  health_port="$(free_port)"
  metrics_port="$(free_port)"

  VELTRIM_OTLP_PORT="${otlp_port}" VELTRIM_HEALTH_PORT="${health_port}" VELTRIM_METRICS_PORT="${metrics_port}" \
    "${collector}" --config "${config}" >"${work}/collector.log" 2>&1 &
  collector_pid=$!
  wait_for "the collector to report healthy" healthy "${health_port}"

  "${loadgen}" -mode bench -endpoint "127.0.0.1:${otlp_port}" -seed 1000 \
    -bench-spans "${warmup_spans}" -bench-workers "${workers}" -bench-batch-size "${batch}" >/dev/null
  wait_for "the warm-up spans to be exported" all_sent "${metrics_port}" "${warmup_spans}"

  local cpu_before cpu_after start_ns end_ns
  cpu_before="$(cpu_ticks "${collector_pid}")"
  start_ns="$(date +%s%N)"
  "${loadgen}" -mode bench -endpoint "127.0.0.1:${otlp_port}" -seed 1 \
    -bench-spans "${spans}" -bench-workers "${workers}" -bench-batch-size "${batch}" >/dev/null
  wait_for "the measured spans to be exported" all_sent "${metrics_port}" "$((warmup_spans + spans))"
  end_ns="$(date +%s%N)"
  cpu_after="$(cpu_ticks "${collector_pid}")"

  kill -TERM "${collector_pid}"
  wait "${collector_pid}" || true
  collector_pid=""

  result_rate="$(awk -v spans="${spans}" -v ns="$((end_ns - start_ns))" 'BEGIN { printf "%.0f", spans / (ns / 1e9) }')"
  result_cpu="$(awk -v spans="${spans}" -v ticks="$((cpu_after - cpu_before))" -v hz="${clock_ticks}" \
    'BEGIN { printf "%.3f", (ticks / hz) * 1e6 / spans }')"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "bench-throughput: ${rounds} rounds of ${spans} spans (after ${warmup_spans} warm-up spans) per pipeline, ${workers} senders, ${batch} spans per request"
printf '%-9s %-6s %12s %18s\n' pipeline round spans/s "CPU s/1M spans"
for ((round = 1; round <= rounds; round++)); do
  for pipeline in baseline veltrim; do
    run_once "${root}/testdata/collector/bench-${pipeline}.yaml"
    printf '%-9s %-6s %12s %18s\n' "${pipeline}" "${round}" "${result_rate}" "${result_cpu}"
    echo "${result_rate}" >>"${work}/${pipeline}.rate"
    echo "${result_cpu}" >>"${work}/${pipeline}.cpu"
  done
done

base_rate="$(median <"${work}/baseline.rate")"
base_cpu="$(median <"${work}/baseline.cpu")"
veltrim_rate="$(median <"${work}/veltrim.rate")"
veltrim_cpu="$(median <"${work}/veltrim.cpu")"
echo
echo "median of ${rounds} rounds:"
printf '%-9s %12s %18s\n' pipeline spans/s "CPU s/1M spans"
printf '%-9s %12.0f %18.3f\n' baseline "${base_rate}" "${base_cpu}"
printf '%-9s %12.0f %18.3f\n' veltrim "${veltrim_rate}" "${veltrim_cpu}"
awk -v b="${base_cpu}" -v v="${veltrim_cpu}" -v br="${base_rate}" -v vr="${veltrim_rate}" 'BEGIN {
  printf "CPU per span, veltrim / baseline: %.3f (%+.1f %%; goal: at most +10 %%)\n", v / b, (v / b - 1) * 100
  printf "throughput, veltrim / baseline:   %.3f\n", vr / br
}'
