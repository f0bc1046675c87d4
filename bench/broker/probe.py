#!/usr/bin/python3
"""Helpers for bench/broker/run.sh: how long `eddy start` takes to answer, its idle RSS, topic creation.

  probe.py startup EDDY DIR RUNS        start-to-ready and idle RSS, RUNS times on a fresh and on an existing data dir
                                        (DIR/startup-data; eddy's logs in DIR/results)
  probe.py wait HOST:PORT TIMEOUT_S     returns once the broker answers ApiVersions
  probe.py free-port                    prints a free TCP port on 127.0.0.1
  probe.py topics HOST:PORT NAME:PARTITIONS ...   creates topics (python3-confluent-kafka)
  probe.py rss PID                      prints VmRSS in MB (10^6 bytes)

Start to ready is measured from just before the process is spawned to the first ApiVersions response read back:
a loop connects to the port (retrying every 0.2 ms while the connection is refused), sends ApiVersions v0 and
reads the answer. The spawn (fork and exec) is included; Python's own start-up is not.
"""
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time


def api_versions(host, port, timeout):
    """One ApiVersions v0 round trip on a fresh connection; True when the answer has error code 0."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        client = b"eddy-probe"
        body = struct.pack(">hhih", 18, 0, 1, len(client)) + client
        s.sendall(struct.pack(">i", len(body)) + body)
        head = recv_exactly(s, 4)
        (size,) = struct.unpack(">i", head)
        answer = recv_exactly(s, size)
        correlation, error = struct.unpack(">ih", answer[:6])
        return correlation == 1 and error == 0


def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionResetError("closed")
        data += chunk
    return data


def wait_ready(host, port, deadline, process=None):
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"eddy exited with {process.returncode} before it answered")
        try:
            if api_versions(host, port, 2.0):
                return True
        except (ConnectionRefusedError, ConnectionResetError, socket.timeout, OSError):
            time.sleep(0.0002)
    return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError("no VmRSS")


def startup(eddy, workdir, runs):
    data = os.path.join(workdir, "startup-data")
    results = []
    for kind in ("fresh", "existing"):
        for i in range(runs):
            if kind == "fresh":
                subprocess.run(["rm", "-rf", data], check=True)
            port = free_port()
            log = open(os.path.join(workdir, "results", f"startup-{kind}-{i}.log"), "w")
            t0 = time.monotonic_ns()
            p = subprocess.Popen([eddy, "start", "--data-dir", data, "--kafka-addr", f"127.0.0.1:{port}"],
                                 stdout=log, stderr=subprocess.STDOUT)
            ok = wait_ready("127.0.0.1", port, time.monotonic() + 30, p)
            ready_ms = (time.monotonic_ns() - t0) / 1e6
            time.sleep(2)  # idle: no client connected
            rss = rss_mb(p.pid)
            p.send_signal(signal.SIGTERM)
            code = p.wait(30)
            log.close()
            said = ""
            for line in open(log.name):
                if "started in" in line:
                    said = line.rsplit("started in", 1)[1].strip().replace(" ", "")
            print(f"startup data={kind} run={i} ready={ok} ready_ms={ready_ms:.1f} idle_rss_mb={rss:.1f} "
                  f"eddy_says={said} exit={code}", flush=True)
            results.append((kind, ready_ms, rss, ok and code == 0))
    fresh = [r[1] for r in results if r[0] == "fresh"]
    existing = [r[1] for r in results if r[0] == "existing"]
    rss = [r[2] for r in results]
    print(f"startup_summary ready_ms_fresh_median={statistics.median(fresh):.1f} ready_ms_fresh_min={min(fresh):.1f} "
          f"ready_ms_existing_median={statistics.median(existing):.1f} ready_ms_existing_min={min(existing):.1f} "
          f"idle_rss_mb_median={statistics.median(rss):.1f} idle_rss_mb_max={max(rss):.1f} "
          f"all_ok={int(all(r[3] for r in results))}")


def topics(bootstrap, specs):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    wanted = [NewTopic(s.split(":")[0], int(s.split(":")[1]), 1) for s in specs]
    for name, future in admin.create_topics(wanted, request_timeout=30).items():
        future.result()


def main(argv):
    if argv[1] == "startup":
        startup(argv[2], argv[3], int(argv[4]))
    elif argv[1] == "wait":
        host, port = argv[2].rsplit(":", 1)
        if not wait_ready(host, int(port), time.monotonic() + float(argv[3])):
            sys.exit(f"{argv[2]} did not answer ApiVersions in {argv[3]} s")
    elif argv[1] == "free-port":
        print(free_port())
    elif argv[1] == "topics":
        topics(argv[2], argv[3:])
    elif argv[1] == "rss":
        print(f"{rss_mb(int(argv[2])):.1f}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
