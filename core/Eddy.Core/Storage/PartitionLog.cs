using System.Runtime.CompilerServices;
using Eddy.Buffers;
using Eddy.Native;
using Eddy.Observability;
using Eddy.Runtime;

namespace Eddy.Storage;

/// <summary>
/// One partition's log on its owning shard: append, read, flush, truncate, start offset, timestamp lookup and
/// retention over a directory of segments. Every member is called on the owning shard. Appends, flushes,
/// truncation and rolls pass one at a time through a gate (they share the tail page); reads run alongside.
/// </summary>
public sealed partial class PartitionLog : IAsyncDisposable
{
    private const string Subsystem = "storage";

    private readonly Shard _shard;
    private readonly BufferPool _pool;
    private readonly List<Segment> _segments;
    private readonly TailWriter _tail;
    private readonly SegmentReader _reader;
    private readonly AsyncGate _gate = new();
    private readonly CacheStream? _cache;
    private readonly ShardStorage? _ownStorage; // made for a log opened without its shard's
    private bool _flushTimerArmed;
    private Exception? _failure;
    private bool _closed;

    private PartitionLog(string directory, LogOptions options, Shard shard, List<Segment> segments, long startOffset)
    {
        Directory = directory;
        Options = options;
        _shard = shard;
        _pool = shard.Buffers;
        _segments = segments;
        _tail = new TailWriter(_pool, options.PreallocateBytes, options.ZeroFillBytes);
        var storage = options.Storage;
        if (storage is null)
        {
            storage = _ownStorage = new ShardStorage(shard);
        }
        else if (storage.Shard != shard)
        {
            throw new ArgumentException($"{directory}: the log's shard storage belongs to shard {storage.Shard.Id}, not {shard.Id}");
        }
        _reader = new SegmentReader(_pool, storage.ReadWindows);
        _cache = options.UseBatchCache ? storage.BatchCache.OpenStream() : null;
        StartOffset = Math.Max(startOffset, segments[0].BaseOffset);
        DurableOffset = LogEndOffset;
        _durableBytes = Active.Size;
        _onSyncDone = OnSyncDone;
    }

    public string Directory { get; }
    public LogOptions Options { get; private set; }

    /// <summary>The first offset readers may see (moved by DeleteRecords and retention).</summary>
    public long StartOffset { get; private set; }

    /// <summary>The offset the next appended record gets (LEO).</summary>
    public long LogEndOffset => Active.NextOffset;

    /// <summary>Every offset below this is on disk and fdatasynced.</summary>
    public long DurableOffset { get; private set; }

    /// <summary>Bytes of data in all segments.</summary>
    public long SizeBytes
    {
        get
        {
            long total = 0;
            foreach (var s in _segments)
            {
                total += s.Size;
            }
            return total;
        }
    }

    public IReadOnlyList<Segment> Segments => _segments;

    /// <summary>Set once an fdatasync failed: the log refuses writes from then on.</summary>
    public Exception? Failure => _failure;

    private Segment Active => _segments[^1];

    /// <summary>Opens (recovering) or creates the log in <paramref name="directory"/> on the calling shard.
    /// <paramref name="startOffset"/> is the start offset persisted by the caller (kvstore), if any.</summary>
    public static async ValueTask<PartitionLog> OpenAsync(string directory, LogOptions? options = null, long startOffset = 0)
    {
        options ??= LogOptions.Default;
        var shard = Shard.Current ?? throw new InvalidOperationException("a partition log is opened on its shard");
        var segments = await LogRecovery.OpenAsync(directory, options, shard.Buffers, shard.Clock.NowNanos);
        bool created = segments.Count == 0;
        if (created)
        {
            segments.Add(CreateSegment(directory, options, startOffset, 0, shard.Clock.NowNanos));
            await options.Files.SyncDirectoryAsync(directory);
        }
        var log = new PartitionLog(directory, options, shard, segments, startOffset);
        await log._tail.AttachAsync(log.Active);
        log.DropSegmentsBelowStart();
        return log;
    }

    /// <summary>
    /// Appends one or more complete batches. With <paramref name="assignOffsets"/> (a leader), each batch gets the
    /// next offsets and <paramref name="leaderEpoch"/>; without it (a follower), the batches must start at the log
    /// end and keep their offsets. Completes once written, and durable when the log flushes every append (by group
    /// commit: see <see cref="WaitDurableAsync"/>). Returns the first batch's base offset. Throws
    /// <see cref="DiskFullException"/> (nothing written, retry later) or <see cref="LogFailedException"/> (fail-stop).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<long> AppendAsync(ReadOnlyMemory<byte> batches, int leaderEpoch = -1, bool assignOffsets = true)
    {
        // Both are pooled or shard-owned and complete on this shard: resume inline (docs/runtime.md, "Awaiting on a shard").
        var written = await WriteAsync(batches, leaderEpoch, assignOffsets).ConfigureAwait(false);
        if (Options.FlushEveryAppend)
        {
            await WaitDurableAsync(written.NextOffset).ConfigureAwait(false);
        }
        return written.BaseOffset;
    }

    /// <summary>fdatasyncs what was appended; completes with <see cref="DurableOffset"/> at least at the log end as it
    /// was when called.</summary>
    public ValueTask FlushAsync()
    {
        _shard.AssertCurrent();
        ThrowIfUnusable();
        return FlushCoreAsync();
    }

    /// <summary>Reads whole batches from the one holding <paramref name="offset"/>, up to <paramref name="maxBytes"/>
    /// (at least one batch). Empty at the log end. Dispose the result once its bytes are sent.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<LogRead> ReadAsync(long offset, int maxBytes)
    {
        _shard.AssertCurrent();
        ThrowIfClosed();
        if (offset < StartOffset || offset > LogEndOffset)
        {
            throw new OffsetOutOfRangeException(offset, StartOffset, LogEndOffset);
        }
        if (offset == LogEndOffset)
        {
            return default;
        }
        if (_cache is not null && _cache.TryRead(offset, maxBytes, out var cached))
        {
            return cached;
        }
        while (true)
        {
            var segment = SegmentFor(offset);
            if (!segment.TryAcquire())
            {
                continue; // retired while we looked: the list no longer holds it
            }
            try
            {
                // A pooled method that completes on this shard: resume inline (docs/runtime.md, "Awaiting on a shard").
                var read = await _reader.ReadAsync(segment, offset, maxBytes).ConfigureAwait(false);
                int index = _segments.IndexOf(segment);
                if (read.IsEmpty && index >= 0 && index < _segments.Count - 1)
                {
                    // Nothing at or after the offset in this segment (compaction removed its last records, or a
                    // gap between segments): continue in the next one.
                    offset = _segments[index + 1].BaseOffset;
                    continue;
                }
                return read;
            }
            finally
            {
                segment.Release();
            }
        }
    }

    private Segment SegmentFor(long offset)
    {
        int lo = 0;
        int hi = _segments.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >>> 1;
            if (_segments[mid].BaseOffset <= offset)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return _segments[lo];
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new LogClosedException(Directory);
        }
    }

    private void ThrowIfUnusable()
    {
        ThrowIfClosed();
        if (_failure is not null)
        {
            throw Stopped();
        }
    }

    /// <summary>ENOSPC fails this append only; any other error on the write path stops the log (fail-stop): after a
    /// failed fdatasync the kernel may have dropped the data, so nothing unflushed may ever be called durable.</summary>
    private StorageException OnWriteFailure(NativeException e, string what)
    {
        if (e.Errno == Errno.ENOSPC)
        {
            return new DiskFullException($"{Directory}: {what} failed, the disk is full; nothing was written and later appends retry", e);
        }
        _failure = e;
        Log.Error(Subsystem, $"{Directory}: {what} failed ({e.Message}); the log is stopped and accepts no more writes");
        return new LogFailedException($"{Directory}: {what} failed; the log is stopped", e);
    }

    public async ValueTask DisposeAsync()
    {
        if (_closed)
        {
            return;
        }
        await _gate.EnterAsync();
        try
        {
            try
            {
                await _tail.SettleAsync(); // a zero fill in flight still uses the file
                if (_failure is null && DurableOffset < LogEndOffset)
                {
                    await FlushCoreAsync(); // also waits out an fdatasync in flight, which uses the file
                }
                else if (_syncing)
                {
                    await _durabilityWaiters.Add(_syncTarget); // the log failed, but that fdatasync still uses the file
                }
                if (_failure is null)
                {
                    Active.File.Truncate(Active.Size); // the zeros ahead go, so that a restart does not read them
                }
            }
            catch (LogFailedException e)
            {
                Log.Error(Subsystem, $"{Directory}: fdatasync on close failed ({e.InnerException?.Message})");
            }
            catch (NativeException e)
            {
                Log.Error(Subsystem, $"{Directory}: cutting the zeros after the data on close failed ({e.Message}); recovery skips them");
            }
            _closed = true;
            _cache?.Dispose();
            _reader.Dispose();
            _ownStorage?.Dispose();
            _tail.Dispose();
            foreach (var s in _segments)
            {
                s.Retire(delete: false);
            }
        }
        finally
        {
            _gate.Exit();
        }
    }
}
