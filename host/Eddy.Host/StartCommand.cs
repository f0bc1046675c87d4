using System.Diagnostics;
using System.Runtime.InteropServices;
using Eddy.Admin;
using Eddy.Cluster;
using Eddy.Config;
using Eddy.Kafka;
using Eddy.Kafka.Server;
using Eddy.Observability;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Host;

/// <summary>`eddy start`: starts the shards and the Kafka server, runs until SIGINT or SIGTERM, then stops cleanly (exit code 0).</summary>
internal static class StartCommand
{
    public static int Run(NodeConfig config)
    {
        Log.MinimumLevel = Log.NodeLevel = config.LogLevel;
        Log.Format = config.LogFormat;
        var startedAt = Stopwatch.StartNew();
        if (config.ConfigFile is not null)
        {
            Log.Info("node", $"settings read from {config.ConfigFile}");
        }
        if (config.TestLoseUnsyncedWrites)
        {
            VolatileWriteCache.Enabled = true;
            Log.Warn("node", "test_lose_unsynced_writes: every file's writes are held in memory until fdatasync (fault tests only; slow)");
        }
        var options = new ShardGroupOptions { Backend = config.IoBackend };
        if (config.Shards is int shards)
        {
            options.ShardCount = shards;
        }
        ShardGroup group;
        try
        {
            group = ShardGroup.Start(options);
        }
        catch (Exception e)
        {
            Log.Error("node", $"could not start shards: {e.Message}");
            return 1;
        }
        var backend = group.InvokeAsync(0, () => Shard.Current!.IoBackendName).GetAwaiter().GetResult();
        // The admin API first, so that its readiness endpoint answers 503 while the data opens.
        AdminServer admin;
        try
        {
            admin = AdminServer.StartAsync(group, config.AdminAddress, config, Cli.Version).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Log.Error("node", $"could not start the admin API on {config.AdminAddress}: {e.Message}");
            group.Stop(TimeSpan.FromSeconds(5));
            return 1;
        }
        Log.Info("admin", $"listening on {config.AdminAddress.Address}:{admin.Port}");
        KafkaNode node;
        try
        {
            node = KafkaNode.StartAsync(group, BrokerOptions.FromConfig(config), config.KafkaAddress, KafkaServerOptions.FromConfig(config))
                .GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Log.Error("node", $"could not start (data in {Path.GetFullPath(config.DataDirectory)}, Kafka listener on {config.KafkaAddress}, RPC listener on {config.RpcAddress}): {e.Message}");
            admin.DisposeAsync().AsTask().GetAwaiter().GetResult();
            group.Stop(TimeSpan.FromSeconds(5));
            return 1;
        }
        admin.Serve(node);
        var kafka = node.Server;
        // Handle the signals before saying "up": whoever waits for that line may stop the node at once.
        using var stop = new ManualResetEventSlim();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we exit on our own, after stopping the shards
            Log.Info("node", $"{context.Signal} received: stopping");
            stop.Set();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        Log.Info("kafka", $"listening on {config.KafkaAddress.Address}:{kafka.Port}, advertised as {kafka.AdvertisedHost}:{kafka.AdvertisedPort}");
        Log.Info("node", $"eddy {Cli.Version} node {node.Broker.Controller.NodeId} up: {group.Count} shards on {backend}, data in {Path.GetFullPath(config.DataDirectory)}, started in {startedAt.Elapsed.TotalMilliseconds:F1} ms");

        stop.Wait();
        // Answer waiting group requests, stop accepting and drain connections while the shards still run, flush and
        // close the logs, then stop the shards.
        admin.Stopping();
        node.StopAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        admin.DisposeAsync().AsTask().GetAwaiter().GetResult();
        group.Stop(TimeSpan.FromSeconds(30));
        Log.Info("node", "stopped");
        return 0;
    }
}
