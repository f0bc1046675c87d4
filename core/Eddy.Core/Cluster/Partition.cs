using System.Runtime.CompilerServices;
using Eddy.Cluster.Producers;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>
/// One partition on its owning shard: its log, the high watermark readers may see up to, and the fetches
/// waiting for it to move. On one node, an offset is committed once it is durable, so the high watermark is the
/// log's durable offset. Every member is called on the owning shard.
/// </summary>
public sealed class Partition
{
    private readonly List<IAppendWaiter> _waiters = [];

    public Partition(TopicInfo topic, int index, PartitionLog log, ProducerStateTable producers)
    {
        Topic = topic;
        Index = index;
        Log = log;
        Producers = new ProducerAppender(log, producers);
    }

    /// <summary>The topic as it was when this partition was opened or last reconfigured.</summary>
    public TopicInfo Topic { get; internal set; }

    public int Index { get; }
    public PartitionLog Log { get; }

    /// <summary>The idempotent producers' state for this partition; every client append goes through it.</summary>
    public ProducerAppender Producers { get; }

    /// <summary>Kafka's leader epoch. One node is leader forever: epoch 0, stamped on every batch.</summary>
    public int LeaderEpoch => 0;

    /// <summary>Offsets below this are acknowledged and visible to consumers.</summary>
    public long HighWatermark => Log.DurableOffset;

    public long LogStartOffset => Log.StartOffset;

    /// <summary>Set when the topic is deleted or the node stops: requests that still hold it get an error.</summary>
    public bool IsClosed { get; internal set; }

    /// <summary>Appends one client batch already validated by the caller, with the idempotent producer's checks (a
    /// retried batch gets its original offset, nothing appended); completes once durable (the log's group commit) and
    /// wakes waiting fetches.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ProducerAppendResult> AppendAsync(ReadOnlyMemory<byte> batch)
    {
        // A pooled method completed on this shard: resume inline (docs/runtime.md, "Awaiting on a shard").
        var result = await Producers.AppendAsync(batch, LeaderEpoch).ConfigureAwait(false);
        if (result.ErrorCode == 0 && !result.Duplicate)
        {
            WakeWaiters();
        }
        return result;
    }

    /// <summary>Registers a fetch to hear of the next append, dropping waiters that have given up.</summary>
    public void AddWaiter(IAppendWaiter waiter)
    {
        _waiters.RemoveAll(static w => w.IsDone);
        _waiters.Add(waiter);
    }

    /// <summary>Tells every waiter the partition moved (also used when it closes, so no fetch waits on a dead log).</summary>
    public void WakeWaiters()
    {
        if (_waiters.Count == 0)
        {
            return;
        }
        foreach (var waiter in _waiters)
        {
            waiter.OnAppend();
        }
        _waiters.Clear();
    }

    public override string ToString() => $"{Topic.Name}-{Index}";
}
