using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Eddy.TestSupport;

/// <summary>
/// Several `eddy` processes on loopback forming one cluster: each node has its own data directory, Kafka port and RPC
/// port, and all are started with the same --seeds. Nodes can be killed, stopped and started again on the same
/// directory and ports. <see cref="MetadataAsync"/> asks one node (and only it) for Metadata with kcat. With
/// <see cref="StartInNamespacesAsync"/>, each node runs in a network namespace of its own (<see cref="NetworkNamespaces"/>),
/// on Eddy's default ports at its own address, so a test can cut a node's link.
/// </summary>
public sealed class EddyCluster : IAsyncDisposable
{
    private static readonly int[] DefaultPorts = [9092, 33145];

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"eddy-cluster-{Guid.NewGuid():N}");
    private readonly string[] _extraArgs;

    private EddyCluster(int size, string[] extraArgs, NetworkNamespaces? namespaces)
    {
        _extraArgs = extraArgs;
        Namespaces = namespaces;
        // In namespaces every node has the ports to itself, so it listens where Eddy listens by default.
        var ports = namespaces is null ? FreePorts(2 * size) : [.. Enumerable.Repeat(DefaultPorts, size).SelectMany(p => p)];
        _nodes = [.. Enumerable.Range(1, size).Select(id => new Node(id, namespaces?.Address(id) ?? "127.0.0.1", ports[2 * (id - 1)], ports[2 * (id - 1) + 1],
            Path.Combine(_root, $"node{id}"), namespaces?.Launcher(id)))];
        Seeds = string.Join(',', Nodes.Select(n => $"{n.Address}:{n.RpcPort}"));
    }

    public sealed class Node(int id, string address, int kafkaPort, int rpcPort, string dataDirectory, string[]? launcher)
    {
        public int Id { get; } = id;
        public string Address { get; } = address;
        public int KafkaPort { get; } = kafkaPort;
        public int RpcPort { get; } = rpcPort;
        public string DataDirectory { get; } = dataDirectory;
        internal string[]? Launcher { get; } = launcher;
        public string Bootstrap => $"{Address}:{KafkaPort}";
        public EddyProcess? Process { get; internal set; }

        /// <summary>The admin API's port on the running process (an ephemeral one, new at each start).</summary>
        public int AdminPort => Process?.AdminPort ?? 0;
        public bool IsRunning => Process is { HasExited: false };
    }

    private readonly List<Node> _nodes;

    /// <summary>The seeds first (ids 1 to the cluster's size), then the nodes that joined through them.</summary>
    public IReadOnlyList<Node> Nodes => _nodes;

    /// <summary>The nodes' network namespaces, when they run in some.</summary>
    public NetworkNamespaces? Namespaces { get; }

    public string Seeds { get; }

    /// <summary>Every running node's bootstrap address, comma-separated, for clients.</summary>
    public string Bootstrap => string.Join(',', Nodes.Where(n => n.IsRunning).Select(n => n.Bootstrap));

    public Node this[int id] => Nodes[id - 1];

    /// <summary>Starts <paramref name="size"/> nodes at once (each listed in --seeds) and waits until each listens for
    /// Kafka, which it does once the cluster has formed.</summary>
    public static Task<EddyCluster> StartAsync(int size, params string[] extraArgs) => StartAsync(new EddyCluster(size, extraArgs, null));

    /// <summary>As <see cref="StartAsync(int, string[])"/>, each node in a network namespace of its own.</summary>
    public static Task<EddyCluster> StartInNamespacesAsync(int size, params string[] extraArgs)
        => StartAsync(new EddyCluster(size, extraArgs, new NetworkNamespaces(size)));

    private static async Task<EddyCluster> StartAsync(EddyCluster cluster)
    {
        try
        {
            await Task.WhenAll(cluster.Nodes.Select(n => cluster.StartNodeAsync(n.Id)));
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>Starts (or restarts) node <paramref name="id"/> on its directory and ports; waits until it listens.</summary>
    public async Task StartNodeAsync(int id)
    {
        var node = this[id];
        Assert.False(node.IsRunning, $"node {id} is already running");
        node.Process?.Dispose();
        node.Process = await EddyProcess.StartAsync(["--smp", "1", "--data-dir", node.DataDirectory, "--kafka-addr", node.Bootstrap,
            "--rpc-addr", $"{node.Address}:{node.RpcPort}", "--seeds", Seeds, .. _extraArgs], node.Launcher);
    }

    /// <summary>Starts a node that is not among the seeds, with the same --seeds and <paramref name="args"/>, and waits
    /// until it listens; it joins the cluster through them. It is expected to get the next id.</summary>
    public async Task<Node> JoinNodeAsync(params string[] args)
    {
        Assert.Null(Namespaces); // a joining node on loopback only
        int id = _nodes.Count + 1;
        var ports = FreePorts(2);
        var node = new Node(id, "127.0.0.1", ports[0], ports[1], Path.Combine(_root, $"node{id}"), null);
        _nodes.Add(node);
        node.Process = await EddyProcess.StartAsync(["--smp", "1", "--data-dir", node.DataDirectory, "--kafka-addr", node.Bootstrap,
            "--rpc-addr", $"{node.Address}:{node.RpcPort}", "--seeds", Seeds, .. _extraArgs, .. args]);
        return node;
    }

    /// <summary>SIGKILL: the node stops at once, as in a crash.</summary>
    public async Task KillAsync(int id)
    {
        var process = this[id].Process!;
        process.Signal(9);
        await process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, and a clean exit.</summary>
    public Task StopNodeAsync(int id) => this[id].Process!.StopAsync(15);

    /// <summary>The cluster as node <paramref name="id"/> describes it in Metadata (asked through kcat, bootstrapped to
    /// that node alone); null when it does not answer.</summary>
    public async Task<ClusterMetadata?> MetadataAsync(int id)
    {
        var (code, output, _) = await ChildProcess.RunAsync("kcat", null, "-L", "-J", "-b", this[id].Bootstrap, "-m", "3");
        if (code != 0)
        {
            return null;
        }
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        return new ClusterMetadata(
            root.GetProperty("originating_broker").GetProperty("id").GetInt32(),
            root.GetProperty("controllerid").GetInt32(),
            [.. root.GetProperty("brokers").EnumerateArray().Select(b => (b.GetProperty("id").GetInt32(), b.GetProperty("name").GetString()!)).OrderBy(b => b.Item1)],
            root.GetProperty("topics").EnumerateArray().ToDictionary(t => t.GetProperty("topic").GetString()!,
                t => t.GetProperty("partitions").EnumerateArray().OrderBy(p => p.GetProperty("partition").GetInt32()).Select(p => p.GetProperty("leader").GetInt32()).ToArray()))
        {
            InSync = root.GetProperty("topics").EnumerateArray().ToDictionary(t => t.GetProperty("topic").GetString()!,
                t => t.GetProperty("partitions").EnumerateArray().OrderBy(p => p.GetProperty("partition").GetInt32())
                    .Select(p => p.GetProperty("isrs").EnumerateArray().Select(i => i.GetProperty("id").GetInt32()).Order().ToArray()).ToArray()),
        };
    }

    /// <summary>Polls <paramref name="probe"/> until it holds or <paramref name="timeout"/> passes; returns how long it took.</summary>
    public static async Task<TimeSpan> WaitUntilAsync(Func<Task<bool>> probe, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await probe())
        {
            Assert.True(clock.Elapsed < timeout, $"not within {timeout.TotalSeconds:0.#} s: {what}");
            await Task.Delay(20);
        }
        return clock.Elapsed;
    }

    /// <summary>Every running node lists every node of the cluster as a broker and names the same live controller.</summary>
    public async Task<bool> AgreesAsync()
    {
        int? controller = null;
        foreach (var node in Nodes.Where(n => n.IsRunning))
        {
            var metadata = await MetadataAsync(node.Id);
            if (metadata is null || metadata.ControllerId <= 0 || !this[metadata.ControllerId].IsRunning
                || !metadata.Brokers.Select(b => b.Id).SequenceEqual(Nodes.Select(n => n.Id))
                || (controller is not null && controller != metadata.ControllerId))
            {
                return false;
            }
            controller = metadata.ControllerId;
        }
        return controller is not null;
    }

    /// <summary>Each of <paramref name="nodes"/> (default: every running node) names a controller leader, and not node
    /// <paramref name="not"/>.</summary>
    public async Task<bool> NameAControllerOtherThanAsync(int not, IEnumerable<Node>? nodes = null)
    {
        foreach (var node in nodes ?? Nodes.Where(n => n.IsRunning))
        {
            var seen = await MetadataAsync(node.Id);
            if (seen is null || seen.ControllerId <= 0 || seen.ControllerId == not)
            {
                return false;
            }
        }
        return true;
    }

    public string Output(int id) => this[id].Process?.Output ?? "";

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            node.Process?.Dispose();
        }
        Namespaces?.Dispose();
        await Task.Yield();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    /// <summary>
    /// Ports free on loopback now (bound and released at once: a test binds them soon after), picked at random below
    /// the kernel's ephemeral range: a port from that range could be handed, between the pick and the node's bind, to
    /// anything that binds port 0 or connects out (another node's admin listener, any client), and the node would
    /// fail to start with EADDRINUSE.
    /// </summary>
    public static int[] FreePorts(int count)
    {
        int below = EphemeralLow();
        var ports = new List<int>(count);
        var listeners = new List<TcpListener>();
        try
        {
            for (int tries = 0; ports.Count < count; tries++)
            {
                Assert.True(tries < 1000, $"no {count} free ports found below {below}");
                int port = Random.Shared.Next(below / 2, below);
                if (ports.Contains(port))
                {
                    continue;
                }
                var listener = new TcpListener(IPAddress.Loopback, port);
                try
                {
                    listener.Start();
                }
                catch (SocketException)
                {
                    continue; // taken
                }
                listeners.Add(listener);
                ports.Add(port);
            }
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
        return [.. ports];
    }

    /// <summary>The first port of the kernel's ephemeral range (ip_local_port_range; 32768 when it cannot be read).</summary>
    private static int EphemeralLow()
    {
        try
        {
            string range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range");
            return int.Parse(range.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 32768;
        }
    }
}

/// <summary>One node's answer to Metadata: who answered, the controller it names, the brokers, and each topic's
/// partition leaders in partition order (and their in-sync replicas, sorted).</summary>
public sealed record ClusterMetadata(int AnsweredBy, int ControllerId, IReadOnlyList<(int Id, string Address)> Brokers, IReadOnlyDictionary<string, int[]> Leaders)
{
    public IReadOnlyDictionary<string, int[][]> InSync { get; init; } = new Dictionary<string, int[][]>();
}
