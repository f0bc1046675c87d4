using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Cluster.Producers;

/// <summary>
/// Hands out producer ids that are never reused, also across restarts: ids are reserved in blocks (1000 by default,
/// as Kafka's producer id manager does), and the end of the reserved range is made durable in a
/// <see cref="KvStore"/> before any id from the block is handed out. A restart continues after the last reserved
/// block, so the unused rest of it is skipped, never repeated. Lives on the kvstore's shard (shard 0 on a node);
/// other shards reach it with <see cref="Smp.SubmitTo{T}(int, Func{ValueTask{T}})"/>.
/// </summary>
public sealed class ProducerIdAllocator
{
    /// <summary>The kvstore key holding the first id not yet reserved.</summary>
    public const string ReservedEndKey = "producers/next-id-block";

    public const int DefaultBlockSize = 1000;

    private readonly KvStore _store;
    private readonly AsyncGate _gate = new();
    private readonly Shard _shard;
    private long _next;
    private long _reservedEnd;

    /// <summary>Created on the store's shard, after the store is open (its state is in memory, so this does no I/O).</summary>
    public ProducerIdAllocator(KvStore store, int blockSize = DefaultBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        _shard = Shard.Current ?? throw new InvalidOperationException("the producer id allocator is created on its kvstore's shard");
        _store = store;
        BlockSize = blockSize;
        _reservedEnd = store.TryGetInt64(ReservedEndKey, out long end) ? end : 0;
        _next = _reservedEnd;
    }

    /// <summary>The shard this allocator runs on.</summary>
    public int ShardId => _shard.Id;

    public int BlockSize { get; }

    /// <summary>The next id; durable before it is returned. Runs on <see cref="ShardId"/>.</summary>
    public async ValueTask<long> AllocateAsync()
    {
        _shard.AssertCurrent();
        if (_next < _reservedEnd)
        {
            return _next++;
        }
        // One reservation at a time: callers that arrive meanwhile wait and then take ids from the new block.
        await _gate.EnterAsync();
        try
        {
            if (_next >= _reservedEnd)
            {
                if (_reservedEnd > long.MaxValue - BlockSize)
                {
                    throw new InvalidOperationException("producer ids are exhausted");
                }
                long end = _reservedEnd + BlockSize;
                await _store.PutInt64Async(ReservedEndKey, end);
                _reservedEnd = end;
            }
            return _next++;
        }
        finally
        {
            _gate.Exit();
        }
    }
}
