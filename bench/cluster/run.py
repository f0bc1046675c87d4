#!/usr/bin/env python3
"""The cluster benchmark: the published `eddy` binary as 3-node clusters on loopback.

  bench/cluster/run.py [--eddy PATH] [--dir DIR] [--rounds N] [--idle-seconds S]

Measures, each beside a reference taken in the same run:
  - formation: from launching 3 nodes at once to every node answering Metadata with 3 brokers and the same
    controller; reference: one node alone, from launch to answering Metadata;
  - controller failover: from SIGKILL of the controller's leader to both other nodes naming a new one; reference:
    the election timeout the controller is configured with (0.5 to 1 s);
  - a clean stop: from SIGTERM of the controller's leader (which hands leadership over first) to both other nodes
    naming a new one; reference: the SIGKILL failover above;
  - an idle 3-node cluster holding 1,000 partitions: CPU per node (utime+stime from /proc over the idle window) and
    RPC frames per second per node (each node logs the frames it sent when it stops); reference: one idle node
    holding the same partitions.
Needs python3-confluent-kafka (to create the topics). Prints a table; raw logs stay in DIR.
"""
import argparse, os, signal, socket, statistics, struct, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench", "broker"))
from probe import recv_exactly  # noqa: E402  (the broker benchmark's, one way to read a frame)
TICKS = os.sysconf("SC_CLK_TCK")


def metadata(port):
    """(brokers, controller id) from Metadata v1 asked of one node, or None."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            client = b"bench"
            body = struct.pack(">hhih", 3, 1, 7, len(client)) + client + struct.pack(">i", 0)  # no topics
            s.sendall(struct.pack(">i", len(body)) + body)
            size = struct.unpack(">i", recv_exactly(s, 4))[0]
            data = recv_exactly(s, size)
    except OSError:
        return None
    at = 4
    count = struct.unpack_from(">i", data, at)[0]; at += 4
    brokers = []
    for _ in range(count):
        node = struct.unpack_from(">i", data, at)[0]; at += 4
        n = struct.unpack_from(">h", data, at)[0]; at += 2 + n
        at += 4
        n = struct.unpack_from(">h", data, at)[0]; at += 2 + max(n, 0)
        brokers.append(node)
    controller = struct.unpack_from(">i", data, at)[0]
    return sorted(brokers), controller


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Node:
    def __init__(self, eddy, directory, kafka, rpc, seeds):
        self.kafka, self.rpc, self.directory = kafka, rpc, directory
        self.log = open(directory + ".log", "w")
        args = [eddy, "start", "--smp", "1", "--data-dir", directory, "--kafka-addr", f"127.0.0.1:{kafka}", "--rpc-addr", f"127.0.0.1:{rpc}",
                "--admin-addr", "127.0.0.1:0"]
        if seeds:
            args += ["--seeds", seeds]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def cpu_seconds(self):
        fields = open(f"/proc/{self.proc.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)
        self.log.close()

    def frames(self):
        for line in open(self.directory + ".log"):
            if "RPC frames to other nodes in" in line:
                words = line.split()
                return int(words[words.index("sent") + 1]), float(words[words.index("in") + 1])
        return None


def cluster(eddy, base, size=3):
    ports = free_ports(2 * size)
    seeds = ",".join(f"127.0.0.1:{ports[2 * i + 1]}" for i in range(size))
    return [Node(eddy, f"{base}/node{i + 1}", ports[2 * i], ports[2 * i + 1], seeds) for i in range(size)]


def wait(predicate, timeout=30):
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError
        time.sleep(0.005)


def agreed(nodes, size):
    seen = [metadata(n.kafka) for n in nodes]
    return all(m and len(m[0]) == size and m[1] > 0 for m in seen) and len({m[1] for m in seen}) == 1


def create_partitions(port, total=1000, per_topic=100):
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"})
    futures = admin.create_topics([NewTopic(f"idle-{i}", per_topic, 1) for i in range(total // per_topic)])
    for f in futures.values():
        f.result(30)


def ms(values):
    return f"{statistics.median(values) * 1000:.0f} ms (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--eddy")
    parser.add_argument("--dir", default="/work/benchdata/cluster")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--idle-seconds", type=int, default=30)
    a = parser.parse_args()
    eddy = a.eddy or publish(a.dir)
    subprocess.run(["rm", "-rf", a.dir + "/runs"], check=True)
    os.makedirs(a.dir + "/runs", exist_ok=True)

    lone, formed, failover, handoff = [], [], [], []
    for r in range(a.rounds):
        base = f"{a.dir}/runs/lone{r}"
        start = time.monotonic()
        node = Node(eddy, base, free_ports(1)[0], 0, None)
        wait(lambda: metadata(node.kafka) is not None)
        lone.append(time.monotonic() - start)
        node.stop()

        base = f"{a.dir}/runs/three{r}"
        os.makedirs(base, exist_ok=True)
        start = time.monotonic()
        nodes = cluster(eddy, base)
        wait(lambda: agreed(nodes, 3))
        formed.append(time.monotonic() - start)

        leader = metadata(nodes[0].kafka)[1]
        victim = nodes[leader - 1]
        start = time.monotonic()
        victim.proc.send_signal(signal.SIGKILL)
        rest = [n for n in nodes if n is not victim]
        wait(lambda: all((m := metadata(n.kafka)) and m[1] > 0 and m[1] != leader for n in rest))
        failover.append(time.monotonic() - start)
        victim.stop()
        for n in rest:
            n.stop()

        base = f"{a.dir}/runs/handoff{r}"
        os.makedirs(base, exist_ok=True)
        nodes = cluster(eddy, base)
        wait(lambda: agreed(nodes, 3))
        leader = metadata(nodes[0].kafka)[1]
        victim = nodes[leader - 1]
        rest = [n for n in nodes if n is not victim]
        start = time.monotonic()
        victim.proc.send_signal(signal.SIGTERM)
        wait(lambda: all((m := metadata(n.kafka)) and m[1] > 0 and m[1] != leader for n in rest))
        handoff.append(time.monotonic() - start)
        for n in nodes:
            n.stop()

    # Idle: one node holding 1,000 partitions, then 3 nodes holding them between them.
    base = f"{a.dir}/runs/idle-lone"
    single = Node(eddy, base, free_ports(1)[0], 0, None)
    wait(lambda: metadata(single.kafka) is not None)
    create_partitions(single.kafka)
    time.sleep(5)
    before = single.cpu_seconds()
    time.sleep(a.idle_seconds)
    lone_cpu = (single.cpu_seconds() - before) / a.idle_seconds
    single.stop()

    base = f"{a.dir}/runs/idle-three"
    os.makedirs(base, exist_ok=True)
    nodes = cluster(eddy, base)
    wait(lambda: agreed(nodes, 3))
    create_partitions(nodes[0].kafka)
    time.sleep(5)
    before = [n.cpu_seconds() for n in nodes]
    time.sleep(a.idle_seconds)
    cpu = [(n.cpu_seconds() - b) / a.idle_seconds for n, b in zip(nodes, before)]
    for n in nodes:
        n.stop()
    frames = [n.frames() for n in nodes]

    print(f"machine: {os.cpu_count()} cores, {socket.gethostname()}; eddy {eddy}")
    print("| measure | eddy | reference (same run) | ratio |")
    print("|---|---|---|---|")
    print(f"| 3 nodes launched to all agreeing (Metadata: 3 brokers, one controller), median of {a.rounds} | {ms(formed)} | one node launched to answering Metadata: {ms(lone)} | {statistics.median(formed) / statistics.median(lone):.1f}x |")
    print(f"| SIGKILL of the controller leader to both others naming a new one, median of {a.rounds} | {ms(failover)} | election timeout 500 to 1000 ms | {statistics.median(failover) / 0.75:.2f}x of its middle |")
    print(f"| SIGTERM of the controller leader (it hands leadership over, then stops) to both others naming a new one, median of {a.rounds} | {ms(handoff)} | the SIGKILL failover above: {ms(failover)} | {statistics.median(handoff) / statistics.median(failover):.2f}x |")
    print(f"| idle 3-node cluster with 1,000 partitions: CPU per node over {a.idle_seconds} s | {', '.join(f'{c * 100:.2f}%' for c in cpu)} of a core | one idle node with the same partitions: {lone_cpu * 100:.2f}% | {statistics.mean(cpu) / lone_cpu if lone_cpu else float('nan'):.2f}x |")
    print(f"| idle 3-node cluster: RPC frames sent per node per second (over each node's life) | {', '.join(f'{f[0] / f[1]:.1f}' for f in frames if f)} | heartbeats every 100 ms: 20/s from the leader (to 2 followers), 10/s from each follower (answers) | |")


def publish(directory):
    out = os.path.join(directory, "publish")
    subprocess.run(["dotnet", "publish", os.path.join(ROOT, "host/Eddy.Host"), "-c", "Release", "-r", "linux-x64", "-o", out],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(out, "eddy")


if __name__ == "__main__":
    sys.exit(main())
