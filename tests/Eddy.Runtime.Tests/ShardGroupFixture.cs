using Eddy.Runtime;

namespace Eddy.Runtime.Tests;

/// <summary>Starts shards on the backend CI chose (EDDY_IO_BACKEND), and stops them after the test.</summary>
public sealed class ShardGroupScope : IDisposable
{
    public ShardGroupScope(int shards = 2, int smpQueueCapacity = 1024)
    {
        Group = ShardGroup.Start(new ShardGroupOptions { ShardCount = shards, SmpQueueCapacity = smpQueueCapacity });
    }

    public ShardGroup Group { get; }

    public void Dispose() => Group.Stop(TimeSpan.FromSeconds(20));
}
