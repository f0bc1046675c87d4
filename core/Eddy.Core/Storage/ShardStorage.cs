using Eddy.Runtime;

namespace Eddy.Storage;

/// <summary>
/// What a shard's logs share: the batch cache and the budget of read windows kept between reads. Made on the shard by
/// whoever builds the node (the broker makes one per shard, sized from the node settings) and handed to each log in
/// <see cref="LogOptions.Storage"/>. A log opened without one (tests, tools, the kvstore) makes its own with the
/// defaults and disposes it when it closes. Shard thread only.
/// </summary>
public sealed class ShardStorage : IDisposable
{
    /// <summary>Bytes of batches a shard caches, unless configured: 64 MiB.</summary>
    public const long DefaultBatchCacheBytes = 64L << 20;

    /// <summary>Bytes of read windows a shard keeps between reads, over all its logs, unless configured: 64 MiB.</summary>
    public const long DefaultReadWindowBytes = 64L << 20;

    /// <summary>The most either may be: a bound on what a setting can ask one shard to hold (1 TiB).</summary>
    public const long MaxBytes = 1L << 40;

    public ShardStorage(Shard shard, long batchCacheBytes = DefaultBatchCacheBytes, long readWindowBytes = DefaultReadWindowBytes)
    {
        shard.AssertCurrent(); // the cache rents from this shard's pool
        ArgumentOutOfRangeException.ThrowIfNegative(batchCacheBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchCacheBytes, MaxBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(readWindowBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(readWindowBytes, MaxBytes);
        Shard = shard;
        BatchCache = new BatchCache(shard.Buffers, batchCacheBytes);
        ReadWindows = new ReadWindowBudget(readWindowBytes);
    }

    public Shard Shard { get; }

    public BatchCache BatchCache { get; }

    internal ReadWindowBudget ReadWindows { get; }

    /// <summary>Frees the cache's slabs. Call once every log using this has closed.</summary>
    public void Dispose() => BatchCache.Dispose();
}
