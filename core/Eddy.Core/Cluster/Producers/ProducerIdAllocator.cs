using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Cluster.Producers;

/// <summary>
/// Hands out producer ids that are never reused, on any node, also across restarts: ids come in blocks (1000 by
/// default, as Kafka's producer id manager reserves them) that the controller reserves for this node in its log, so a
/// block is durable and no other node's before any id from it is handed out. A restart reserves a new block, so the
/// unused rest of the last one is skipped, never repeated. Lives on the controller's shard (shard 0 on a node); other
/// shards reach it with <see cref="Smp.SubmitTo{T}(int, Func{ValueTask{T}})"/>.
/// </summary>
public sealed class ProducerIdAllocator
{
    public const int DefaultBlockSize = 1000;

    private readonly Func<int, ValueTask<long>> _reserve;
    private readonly AsyncGate _gate = new();
    private readonly Shard _shard;
    private long _next;
    private long _reservedEnd;

    /// <param name="reserve">Reserves a block of the given size and returns its first id; durable when it completes.</param>
    /// <param name="blockSize">Ids per reservation.</param>
    public ProducerIdAllocator(Func<int, ValueTask<long>> reserve, int blockSize = DefaultBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        _shard = Shard.Current ?? throw new InvalidOperationException("the producer id allocator is created on the shard it runs on");
        _reserve = reserve;
        BlockSize = blockSize;
    }

    /// <summary>The shard this allocator runs on.</summary>
    public int ShardId => _shard.Id;

    public int BlockSize { get; }

    /// <summary>The next id; its block is durable before it is returned. Runs on <see cref="ShardId"/>.</summary>
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
                long first = await _reserve(BlockSize);
                if (first < 0 || first > long.MaxValue - BlockSize)
                {
                    throw new InvalidOperationException("producer ids are exhausted");
                }
                _next = first;
                _reservedEnd = first + BlockSize;
            }
            return _next++;
        }
        finally
        {
            _gate.Exit();
        }
    }
}
