#!/usr/bin/env bash
# The broker benchmark: the published `eddy` binary under kload (librdkafka), beside the limits measured in the same
# run — the same kload runs against librdkafka's mock broker (no disk), loopback TCP (iperf3) and fsync'd O_DIRECT
# writes (fio). Prints a table with the ratios (report.py) and keeps every raw output in DIR/results.
#
#   bench/broker/run.sh [-n COUNT] [--dir DIR] [--eddy PATH]
#
#   -n COUNT     messages per throughput run (default 1000000; e.g. -n 50000 for a quick check)
#   --dir DIR    work folder, emptied first (default /work/benchdata/broker); must be on the disk to measure, not tmpfs
#   --eddy PATH  an already published eddy binary (default: dotnet publish host/Eddy.Host -c Release -r linux-x64)
#
# Needs: librdkafka-dev, gcc, fio, iperf3, python3-confluent-kafka, and ../shared/tools/build-kload (or
# $KLOAD_TOOLS/build-kload).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
count=1000000
dir=/work/benchdata/broker
eddy=""
while [ $# -gt 0 ]; do
  case "$1" in
    -n) count=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --eddy) eddy=$(realpath "$2"); shift 2 ;;
    *) sed -n '2,13p' "$0" >&2; exit 2 ;;
  esac
done
size=1024
latency_count=$(( count * 3 / 10 > 20000 ? count * 3 / 10 : 20000 ))  # at 20k msg/s: 15 s per run for 1M
mock_per_partition=3500  # the mock keeps only ~5 MB per partition: consume it back from what fits

mkdir -p "$dir"
fs=$(stat -f -c %T "$dir")
if [ "$fs" = tmpfs ]; then echo "$dir is on tmpfs: O_DIRECT and fsync figures would mean nothing" >&2; exit 2; fi
# Emptied first, but only a folder that is empty or that an earlier run made (it holds .eddy-bench).
if [ -n "$(ls -A "$dir")" ] && [ ! -e "$dir/.eddy-bench" ]; then echo "$dir is not empty and not an earlier run's folder" >&2; exit 2; fi
rm -rf "${dir:?}"/*
touch "$dir/.eddy-bench"
res="$dir/results"; tools="$dir/tools"
mkdir -p "$res" "$tools"
probe() { /usr/bin/python3 "$here/probe.py" "$@"; }
say() { echo "== $*" >&2; }

say "tools"
"${KLOAD_TOOLS:-$root/../shared/tools}/build-kload" "$tools" >/dev/null
gcc -O2 -Wall -o "$tools/mock-cluster" "$here/mock-cluster.c" -lrdkafka
kload="$tools/kload"

if [ -z "$eddy" ]; then
  say "publish (NativeAOT)"
  dotnet publish "$root/host/Eddy.Host" -c Release -r linux-x64 -o "$dir/publish" >"$res/publish.log" 2>&1
  eddy="$dir/publish/eddy"
fi
"$eddy" --version >"$res/eddy-version.txt"

{
  echo "date=$(date -u +%FT%TZ) commit=$(git -C "$root" rev-parse --short HEAD) count=$count size=$size fs=$fs"
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p') cores=$(nproc) mem=$(free -g | awk '/Mem:/{print $2}')GiB kernel=$(uname -r)"
  echo "eddy=$(cat "$res/eddy-version.txt") binary_bytes=$(stat -c %s "$eddy") librdkafka=$(dpkg-query -W -f '${Version}' librdkafka1 2>/dev/null)"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$res/machine.txt"

# kload: NAME then kload's arguments; the output goes to results/NAME.txt, a failure is noted and the run goes on.
run_kload() {
  local name=$1; shift
  say "$name"
  "$kload" "$@" >"$res/$name.txt" 2>&1 || echo "exit=$?" >>"$res/$name.txt"
  tail -n 1 "$res/$name.txt" | grep -q '^exit=' && tail -n 2 "$res/$name.txt" >&2 || true
}
throughput_runs() {  # BOOTSTRAP PREFIX
  run_kload "$2-produce-p1" produce -b "$1" -t p1 -n "$count" -s "$size" -a all -l 5
  run_kload "$2-produce-p6" produce -b "$1" -t p6 -n "$count" -s "$size" -a all -l 5
}
latency_run() {  # BOOTSTRAP PREFIX
  run_kload "$2-latency-p1" produce -b "$1" -t lat1 -n "$latency_count" -s "$size" -a all -l 1 -r 20000
  run_kload "$2-latency-p6" produce -b "$1" -t lat6 -n "$latency_count" -s "$size" -a all -l 1 -r 20000
}

say "limits: iperf3 (loopback, one stream, 5 s)"
iperf_port=$(probe free-port)
iperf3 -s -1 -p "$iperf_port" >/dev/null 2>&1 &
iperf_pid=$!
sleep 1  # a probe connection would count as iperf3's one client
iperf3 -c 127.0.0.1 -p "$iperf_port" -t 5 -J >"$res/iperf3.json"
wait "$iperf_pid" || true

for bs in 4k 64k 1m; do
  say "limits: fio $bs O_DIRECT writes, fdatasync after each"
  fio --name="fsync-$bs" --filename="$dir/fio.dat" --rw=write --bs="$bs" --size=256M --runtime=15 --direct=1 \
    --fdatasync=1 --ioengine=psync --output-format=json >"$res/fio-$bs.json"
  rm -f "$dir/fio.dat"
done

say "startup: 5 runs on a fresh data dir, 5 on an existing one"
probe startup "$eddy" "$dir" 5 >"$res/startup.txt"

say "eddy"
port=$(probe free-port)
"$eddy" start --data-dir "$dir/eddy-data" --kafka-addr "127.0.0.1:$port" >"$res/eddy.log" 2>&1 &
eddy_pid=$!
probe wait "127.0.0.1:$port" 30
probe topics "127.0.0.1:$port" p1:1 p6:6 lat1:1 lat6:6
throughput_runs "127.0.0.1:$port" eddy
run_kload eddy-consume-p1 consume -b "127.0.0.1:$port" -t p1 -n "$count" -T 300
run_kload eddy-consume-p6 consume -b "127.0.0.1:$port" -t p6 -n "$count" -T 300
latency_run "127.0.0.1:$port" eddy
echo "rss_after_load_mb=$(probe rss "$eddy_pid") data_dir_bytes=$(du -sb "$dir/eddy-data" | cut -f1)" >"$res/eddy-after.txt"
kill -TERM "$eddy_pid"
wait "$eddy_pid" && echo "exit=0" >>"$res/eddy-after.txt" || echo "exit=$?" >>"$res/eddy-after.txt"

say "mock broker"
"$tools/mock-cluster" p1:1 p6:6 lat1:1 lat6:6 c1:1 c6:6 >"$res/mock.addr" &
mock_pid=$!
while [ ! -s "$res/mock.addr" ]; do sleep 0.05; done
mock=$(head -n 1 "$res/mock.addr")
throughput_runs "$mock" mock
run_kload mock-fill-c1 produce -b "$mock" -t c1 -n "$mock_per_partition" -s "$size" -a all -l 5
run_kload mock-fill-c6 produce -b "$mock" -t c6 -n $(( mock_per_partition * 6 )) -s "$size" -a all -l 5
run_kload mock-consume-p1 consume -b "$mock" -t c1 -n "$mock_per_partition" -T 60
run_kload mock-consume-p6 consume -b "$mock" -t c6 -n $(( mock_per_partition * 6 )) -T 60
latency_run "$mock" mock
kill "$mock_pid"; wait "$mock_pid" 2>/dev/null || true

echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$res/machine.txt"
rm -rf "$dir/eddy-data" "$dir/startup-data"  # gigabytes; their size is in results/eddy-after.txt
/usr/bin/python3 "$here/report.py" "$res" | tee "$res/report.md"
