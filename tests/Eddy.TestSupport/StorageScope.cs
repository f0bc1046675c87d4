using Eddy.Runtime;

namespace Eddy.TestSupport;

/// <summary>
/// Unpinned shards on the backend CI chose (EDDY_IO_BACKEND) and a scratch directory for their files; disposing
/// stops the shards, then removes the directory.
/// </summary>
public sealed class StorageScope : IDisposable
{
    /// <param name="shards">How many shards to start.</param>
    /// <param name="root">A directory to make the scratch directory in (a small tmpfs, say); default: the system temp directory.</param>
    /// <param name="clock">The shards' clock; default: the real one.</param>
    public StorageScope(int shards = 1, string? root = null, IClock? clock = null)
    {
        Root = root is null
            ? Directory.CreateTempSubdirectory("eddy-storage-").FullName
            : Directory.CreateDirectory(Path.Combine(root, Guid.NewGuid().ToString("n"))).FullName;
        var options = new ShardGroupOptions { ShardCount = shards, PinThreads = false };
        if (clock is not null)
        {
            options.Clock = clock;
        }
        Group = ShardGroup.Start(options);
    }

    public string Root { get; }

    public ShardGroup Group { get; }

    /// <summary>A partition directory as a node lays it out (DATA/kafka/TOPIC/PARTITION_REVISION).</summary>
    public string LogDir(string name = "0_1") => Path.Combine(Root, "kafka", "topic", name);

    public Task<T> Run<T>(Func<ValueTask<T>> work, int shard = 0) => Group.InvokeAsync(shard, work);

    public Task Run(Func<ValueTask> work, int shard = 0) => Group.InvokeAsync(shard, work);

    public void Dispose()
    {
        Group.Stop(TimeSpan.FromSeconds(20));
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
