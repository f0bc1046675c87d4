#!/usr/bin/python3
"""The replication benchmark: replicated partitions on three local nodes of the published `eddy` binary, each figure
beside a reference measured in the same run on the same machine.

  /usr/bin/python3 bench/replication/run.py [--eddy PATH] [--kload PATH] [--dir DIR] [-n COUNT] [--rounds N]

  The load comes from `eddy bench produce` (docs/cli.md), the client in the binary; with --kload PATH it comes from
  kload instead (a librdkafka load generator, built with ../shared/tools/build-kload DIR), as in the earlier figures.

  - throughput: the client produces COUNT 1 KiB messages (acks=all, linger 5 ms) to a 3-partition topic with three
    replicas on three nodes, twice: the first run after start, then the steady state; reference: the same runs
    against one node with one replica per partition; with the CPU time the nodes (all of them) spent per message in the
    steady run, since on one machine the three nodes share the cores that one node has alone, and the client's own (the
    client takes its share of the same cores);
  - latency at 20k msg/s: the client paced at 20,000 msg/s (linger 1 ms), p50 and p99, for both;
  - failover: SIGKILL of a partition's leader while a producer sends one message at a time, to the first message
    acknowledged after the kill, median of N rounds; reference: the election timeout (0.5 to 1 s);
  - catch-up: a follower killed while COUNT messages are produced, then restarted: the bytes it lacked over the time
    until its log files hold as many bytes as the leader's; reference: fio's O_DIRECT sequential read of as many bytes
    (the disk's read limit), in the same run.
Needs python3-confluent-kafka and fio (and kload with --kload). Prints a table; raw
outputs stay in DIR.
"""
import argparse, json, os, resource, signal, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "cluster"))
from run import Node, cluster, free_ports, metadata, publish, wait  # noqa: E402  (the cluster benchmark's nodes)
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

SIZE = 1024


def create(port, topic, partitions, replicas):
    admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"})
    for f in admin.create_topics([NewTopic(topic, partitions, replicas)]).values():
        f.result(30)


def leaders(port, topic):
    """Each partition's leader and isr as the node on port answers Metadata: [(leader, [isr])], or None."""
    admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"})
    try:
        found = admin.list_topics(topic, timeout=2).topics.get(topic)
    except Exception:  # noqa: BLE001  (a node that does not answer yet)
        return None
    if found is None or found.error is not None:
        return None
    return [(p.leader, sorted(p.isrs)) for _, p in sorted(found.partitions.items())]


def led(port, topic, partitions):
    seen = leaders(port, topic)
    return seen is not None and len(seen) == partitions and all(leader > 0 for leader, _ in seen)


def kload(tool, out, *args):
    """One load run, written as kload's arguments (produce -b B -t T -n N -s S -a ACKS -l MS [-r RATE]); run by kload
    when tool names it, else by `eddy bench produce` with the same meaning. Returns the summary line's key=value pairs,
    which both print alike."""
    if tool.startswith("eddy:"):
        given = dict(zip(args[1::2], args[2::2]))
        argv = [tool[len("eddy:"):], "bench", "produce", given["-t"], "-b", given["-b"], "-n", given["-n"], "-s", given["-s"],
                "--acks", given["-a"], "-l", given["-l"], "-p", "3"] + (["-r", given["-r"]] if "-r" in given else [])
    else:
        argv = [tool, *args]
    result = subprocess.run(argv, capture_output=True, text=True)
    open(out, "w").write(result.stdout + result.stderr)
    summary = result.stdout.strip().splitlines()[-1]
    return dict(kv.split("=", 1) for kv in summary.split()[1:] if "=" in kv)


def children_cpu_seconds():
    """CPU time of the child processes waited for so far (kload's runs; the nodes are still running)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_runs(tool, nodes, count, results, name):
    bootstrap = ",".join(f"127.0.0.1:{n.kafka}" for n in nodes)
    create_port = nodes[0].kafka
    produce = ("produce", "-b", bootstrap, "-t", "through", "-n", str(count), "-s", str(SIZE), "-a", "all", "-l", "5")
    # The first run after start also pays for the nodes' memory growing to its working size (fresh pages); the second
    # is the steady state.
    cold = kload(tool, f"{results}/{name}-produce-cold.txt", *produce)
    cpu_before, client_before = sum(n.cpu_seconds() for n in nodes), children_cpu_seconds()
    steady = kload(tool, f"{results}/{name}-produce.txt", *produce)
    cpu, client = sum(n.cpu_seconds() for n in nodes) - cpu_before, children_cpu_seconds() - client_before
    return {
        "cold": cold,
        "produce": steady,
        "cpu_us_per_msg": cpu * 1e6 / count,
        "client_us_per_msg": client * 1e6 / count,
        "latency": kload(tool, f"{results}/{name}-latency.txt", "produce", "-b", bootstrap, "-t", "paced", "-n", str(max(count // 5, 100_000)), "-s", str(SIZE),
                         "-a", "all", "-l", "1", "-r", "20000"),
        "port": create_port,
    }


def failover_round(eddy, base, results):
    nodes = cluster(eddy, base)
    bootstrap = ",".join(f"127.0.0.1:{n.kafka}" for n in nodes)
    wait(lambda: all(metadata(n.kafka) and len(metadata(n.kafka)[0]) == 3 for n in nodes))
    create(nodes[0].kafka, "failover", 1, 3)
    wait(lambda: led(nodes[0].kafka, "failover", 1))
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 0,
                         "topic.metadata.refresh.interval.ms": 1000, "retry.backoff.ms": 20})
    acked = []

    def send():
        producer.produce("failover", b"x" * SIZE, on_delivery=lambda err, msg: acked.append((time.monotonic(), err)))
        producer.flush(10)

    for _ in range(20):
        send()
    leader = leaders(nodes[0].kafka, "failover")[0][0]
    victim = nodes[leader - 1]
    killed = time.monotonic()
    victim.proc.send_signal(signal.SIGKILL)
    while True:
        send()
        at, err = acked[-1]
        if err is None and at > killed:
            break
        if time.monotonic() - killed > 30:
            raise TimeoutError("no produce acknowledged within 30 s of the kill")
    took = acked[-1][0] - killed
    victim.stop()
    for n in nodes:
        n.stop()
    return took


def catch_up(eddy, tool, base, count, results):
    nodes = cluster(eddy, base)
    bootstrap = ",".join(f"127.0.0.1:{n.kafka}" for n in nodes)
    wait(lambda: all(metadata(n.kafka) and len(metadata(n.kafka)[0]) == 3 for n in nodes))
    create(nodes[0].kafka, "catchup", 1, 3)
    wait(lambda: led(nodes[0].kafka, "catchup", 1))
    leader = leaders(nodes[0].kafka, "catchup")[0][0]
    follower = next(n for i, n in enumerate(nodes) if i + 1 != leader)
    index = nodes.index(follower)
    follower.proc.send_signal(signal.SIGKILL)
    follower.proc.wait()
    follower.log.close()
    rest = [n for n in nodes if n is not follower]
    kload(tool, f"{results}/catchup-produce.txt", "produce", "-b", ",".join(f"127.0.0.1:{n.kafka}" for n in rest), "-t", "catchup",
          "-n", str(count), "-s", str(SIZE), "-a", "all", "-l", "5")
    leader_bytes = log_bytes(nodes[leader - 1].directory)
    lacked = leader_bytes - log_bytes(follower.directory)
    seeds = ",".join(f"127.0.0.1:{n.rpc}" for n in nodes)
    start = time.monotonic()
    nodes[index] = Node(eddy, follower.directory, follower.kafka, follower.rpc, seeds)
    # Each replica rolls its segments at its own offsets, and an active segment ends in a partly filled 4 KiB block
    # (O_DIRECT), so the same records take a few KiB more or less on each: caught up is within a block per segment.
    wait(lambda: log_bytes(follower.directory) >= leader_bytes - 4096 * segment_count(nodes[leader - 1].directory), timeout=600)
    took = time.monotonic() - start
    for n in nodes:
        n.stop()
    return lacked, took


def log_bytes(directory):
    """The bytes of the catchup partition's segments in a node's data directory."""
    root = os.path.join(directory, "kafka", "catchup")
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs if f.endswith(".log") and "raft" not in d)


def segment_count(directory):
    root = os.path.join(directory, "kafka", "catchup")
    return sum(1 for d, _, fs in os.walk(root) for f in fs if f.endswith(".log") and "raft" not in d)


def fio_read(directory, size_bytes, results):
    path = os.path.join(directory, "fio-read.dat")
    out = subprocess.run(["fio", "--name=read", f"--filename={path}", "--rw=read", "--bs=1m", f"--size={size_bytes}", "--direct=1",
                          "--ioengine=psync", "--output-format=json"], capture_output=True, text=True, check=True).stdout
    open(f"{results}/fio-read.json", "w").write(out)
    os.remove(path)
    return json.loads(out)["jobs"][0]["read"]["bw_bytes"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--eddy")
    parser.add_argument("--kload", help="load with kload at this path instead of eddy bench")
    parser.add_argument("--dir", default="/work/benchdata/replication")
    # A million messages: a steady run of several seconds, where the client's queue filling and draining weighs little.
    parser.add_argument("-n", "--count", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    a = parser.parse_args()
    eddy = a.eddy or publish(a.dir)
    client = a.kload or "eddy:" + eddy
    client_name = "kload" if a.kload else "eddy bench"
    subprocess.run(["rm", "-rf", a.dir + "/runs", a.dir + "/results"], check=True)
    results = a.dir + "/results"
    os.makedirs(a.dir + "/runs", exist_ok=True)
    os.makedirs(results, exist_ok=True)
    load_before = open("/proc/loadavg").read().split()[:3]

    # One node, one replica per partition.
    single = Node(eddy, f"{a.dir}/runs/single", free_ports(1)[0], 0, None)
    wait(lambda: metadata(single.kafka) is not None)
    create(single.kafka, "through", 3, 1)
    create(single.kafka, "paced", 3, 1)
    one = load_runs(client, [single], a.count, results, "rf1")
    single.stop()

    # Three nodes, three replicas per partition.
    base = f"{a.dir}/runs/three"
    os.makedirs(base, exist_ok=True)
    nodes = cluster(eddy, base)
    wait(lambda: all(metadata(n.kafka) and len(metadata(n.kafka)[0]) == 3 for n in nodes))
    create(nodes[0].kafka, "through", 3, 3)
    create(nodes[0].kafka, "paced", 3, 3)
    wait(lambda: led(nodes[0].kafka, "through", 3) and led(nodes[0].kafka, "paced", 3))
    three = load_runs(client, nodes, a.count, results, "rf3")
    for n in nodes:
        n.stop()

    failovers = []
    for r in range(a.rounds):
        base = f"{a.dir}/runs/failover{r}"
        os.makedirs(base, exist_ok=True)
        failovers.append(failover_round(eddy, base, results))

    base = f"{a.dir}/runs/catchup"
    os.makedirs(base, exist_ok=True)
    lacked, took = catch_up(eddy, client, base, a.count, results)
    disk_read = fio_read(a.dir, lacked, results)

    def f(d, k):
        return float(d[k])

    print(f"machine: {os.cpu_count()} cores, load {' '.join(load_before)} before; eddy {eddy}; client {client_name}; {a.count} messages of {SIZE} B")
    print("| measure | 3 replicas on 3 nodes | reference (same run) | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| produce acks=all, 3 partitions, linger 5 ms, first run after start | {f(three['cold'], 'msgs_per_s'):,.0f} msg/s ({f(three['cold'], 'mb_per_s'):.1f} MB/s) "
          f"| 1 replica on 1 node: {f(one['cold'], 'msgs_per_s'):,.0f} msg/s ({f(one['cold'], 'mb_per_s'):.1f} MB/s) "
          f"| {f(three['cold'], 'msgs_per_s') / f(one['cold'], 'msgs_per_s'):.2f}x |")
    print(f"| the same, second run (steady state) | {f(three['produce'], 'msgs_per_s'):,.0f} msg/s ({f(three['produce'], 'mb_per_s'):.1f} MB/s) "
          f"| 1 replica on 1 node: {f(one['produce'], 'msgs_per_s'):,.0f} msg/s ({f(one['produce'], 'mb_per_s'):.1f} MB/s) "
          f"| {f(three['produce'], 'msgs_per_s') / f(one['produce'], 'msgs_per_s'):.2f}x |")
    print(f"| CPU time of the nodes per message, steady run | {three['cpu_us_per_msg']:.2f} us (three nodes together) "
          f"| 1 replica on 1 node: {one['cpu_us_per_msg']:.2f} us | {three['cpu_us_per_msg'] / one['cpu_us_per_msg']:.2f}x |")
    print(f"| {client_name}'s CPU time per message, steady run | {three['client_us_per_msg']:.2f} us "
          f"| against 1 node: {one['client_us_per_msg']:.2f} us | {three['client_us_per_msg'] / one['client_us_per_msg']:.2f}x |")
    print(f"| produce acks=all at 20k msg/s, p50 / p99 | {f(three['latency'], 'lat_us_p50') / 1000:.2f} / {f(three['latency'], 'lat_us_p99') / 1000:.2f} ms "
          f"| 1 replica: {f(one['latency'], 'lat_us_p50') / 1000:.2f} / {f(one['latency'], 'lat_us_p99') / 1000:.2f} ms "
          f"| {f(three['latency'], 'lat_us_p99') / f(one['latency'], 'lat_us_p99'):.2f}x (p99) |")
    print(f"| SIGKILL of a leader to the first produce acknowledged after it, median of {a.rounds} | {statistics.median(failovers) * 1000:.0f} ms "
          f"(min {min(failovers) * 1000:.0f}, max {max(failovers) * 1000:.0f}) | election timeout 500 to 1000 ms | {statistics.median(failovers) / 0.75:.2f}x of its middle |")
    print(f"| a follower's catch-up: {lacked / 1e6:.0f} MB it lacked, restart to holding them | {took:.2f} s, {lacked / took / 1e6:.0f} MB/s "
          f"| fio O_DIRECT sequential read, 1 MiB: {disk_read / 1e6:.0f} MB/s | {lacked / took / disk_read:.2f}x |")


if __name__ == "__main__":
    sys.exit(main())
