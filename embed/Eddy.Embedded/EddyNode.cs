using System.Diagnostics;
using System.Net;
using Eddy.Cluster;
using Eddy.Kafka;
using Eddy.Kafka.Server;
using Eddy.Observability;
using Eddy.Runtime;

namespace Eddy.Embedded;

/// <summary>
/// A real Eddy node in this process: the same shards, storage, Kafka server, controller and group coordinator as
/// `eddy start`, listening on loopback. For tests that need a Kafka broker with no Docker and no second process:
/// <code>
/// await using var node = await EddyNode.StartAsync();
/// var config = new ProducerConfig { BootstrapServers = node.BootstrapServers };
/// </code>
/// Disposing stops it as `eddy start` stops on SIGTERM (answers what it read, flushes and closes the logs) and removes
/// its data directory when it made one.
/// </summary>
public sealed class EddyNode : IAsyncDisposable
{
    private readonly ShardGroup _shards;
    private readonly KafkaNode _node;
    private readonly bool _ownsDirectory;
    private int _disposed;

    private EddyNode(ShardGroup shards, KafkaNode node, string dataDirectory, bool ownsDirectory, TimeSpan startedIn)
    {
        _shards = shards;
        _node = node;
        DataDirectory = dataDirectory;
        _ownsDirectory = ownsDirectory;
        StartedIn = startedIn;
    }

    /// <summary>"127.0.0.1:PORT", for a client's bootstrap.servers.</summary>
    public string BootstrapServers => $"127.0.0.1:{Port}";

    /// <summary>The port Kafka clients connect to.</summary>
    public int Port => _node.Server.Port;

    public string DataDirectory { get; }

    /// <summary>From the call to <see cref="StartAsync"/> until the node accepted clients.</summary>
    public TimeSpan StartedIn { get; }

    /// <summary>Starts a node and returns once it accepts Kafka clients.</summary>
    public static async Task<EddyNode> StartAsync(EddyNodeOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new EddyNodeOptions();
        var started = Stopwatch.StartNew();
        Log.MinimumLevel = Log.NodeLevel = options.LogLevel;
        bool ownsDirectory = options.DataDirectory is null;
        string directory = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), $"eddy-node-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        // Unpinned: a test process shares its cores with the test runner and with other nodes.
        var shards = ShardGroup.Start(new ShardGroupOptions { ShardCount = options.Shards, PinThreads = false, Backend = options.IoBackend });
        try
        {
            cancel.ThrowIfCancellationRequested();
            var node = await KafkaNode.StartAsync(shards,
                new BrokerOptions
                {
                    DataDirectory = directory,
                    AutoCreateTopics = options.AutoCreateTopics,
                    DefaultPartitions = options.DefaultPartitions,
                    OffsetsPartitions = options.OffsetsPartitions,
                    OffsetsReplicationFactor = 1,
                    // Small preallocation: a test's topics hold little, and each segment would otherwise reserve 32 MiB.
                    PreallocateBytes = 1 << 20,
                },
                new IPEndPoint(IPAddress.Loopback, options.Port),
                new KafkaServerOptions());
            return new EddyNode(shards, node, directory, ownsDirectory, started.Elapsed);
        }
        catch
        {
            shards.Dispose();
            if (ownsDirectory)
            {
                Directory.Delete(directory, recursive: true);
            }
            throw;
        }
    }

    /// <summary>Stops the node (waiting up to 10 s for open requests) and removes the data directory it made.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _node.StopAsync(TimeSpan.FromSeconds(10));
        _shards.Dispose();
        if (_ownsDirectory)
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
