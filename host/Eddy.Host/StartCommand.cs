using System.Diagnostics;
using System.Runtime.InteropServices;
using Eddy.Config;
using Eddy.Observability;
using Eddy.Runtime;

namespace Eddy.Host;

/// <summary>`eddy start`: starts the shards and runs until SIGINT or SIGTERM, then stops cleanly (exit code 0).</summary>
internal static class StartCommand
{
    public static int Run(NodeConfig config)
    {
        Log.MinimumLevel = config.LogLevel;
        var startedAt = Stopwatch.StartNew();
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
        Log.Info("node", $"eddy {Cli.Version} node {config.NodeId} up: {group.Count} shards on {backend}, data in {Path.GetFullPath(config.DataDirectory)}, started in {startedAt.Elapsed.TotalMilliseconds:F1} ms");

        using var stop = new ManualResetEventSlim();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we exit on our own, after stopping the shards
            Log.Info("node", $"{context.Signal} received: stopping");
            stop.Set();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        stop.Wait();
        group.Stop(TimeSpan.FromSeconds(30));
        Log.Info("node", "stopped");
        return 0;
    }
}
