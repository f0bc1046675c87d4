using System.Text;
using Eddy.Records;

namespace Eddy.Storage;

/// <summary>
/// A small durable key-value store per shard (Raft term and vote, partition start offsets), kept in memory and
/// made durable by a partition log of its own: every put or delete is one batch, fdatasynced before it
/// completes, so it gets the log's recovery (a torn last write is dropped whole, never half applied). When the log
/// grows past four times the live data, the store rolls and writes a snapshot (all live entries in one batch) at
/// the start of a fresh segment, then drops the segments before it. Shard thread only.
/// </summary>
public sealed class KvStore : IAsyncDisposable
{
    /// <summary>The first record of a snapshot batch has this key: replay clears the state there. User keys may not
    /// start with NUL.</summary>
    private const string SnapshotKey = "\0snapshot";

    private static readonly LogOptions KvLogOptions = new()
    {
        SegmentBytes = 1 << 20,
        PreallocateBytes = 1 << 20,
        UseBatchCache = false,
        RetentionTime = null,
        IndexIntervalBytes = 64 << 10,
    };

    private readonly PartitionLog _log;
    private readonly Dictionary<string, byte[]> _state = new(StringComparer.Ordinal);
    private readonly RecordBatchBuilder _builder = new();
    private readonly AsyncGate _gate = new();
    private readonly long _snapshotMinBytes;
    private long _liveBytes;

    private KvStore(PartitionLog log, long snapshotMinBytes)
    {
        _log = log;
        _snapshotMinBytes = snapshotMinBytes;
    }

    public int Count => _state.Count;

    public IEnumerable<string> Keys => _state.Keys;

    /// <summary>Snapshots written since open (for tests and metrics).</summary>
    public int Snapshots { get; private set; }

    public long LogBytes => _log.SizeBytes;

    /// <summary>The segments of the store's log (diagnostics, crash tests).</summary>
    public IReadOnlyList<Segment> Segments => _log.Segments;

    /// <summary>Opens (replaying) or creates the store in <paramref name="directory"/>. It snapshots once its log is
    /// larger than <paramref name="snapshotMinBytes"/> and four times the live data.</summary>
    public static async ValueTask<KvStore> OpenAsync(string directory, IFileLayer? files = null, long snapshotMinBytes = 1 << 20)
    {
        var options = files is null ? KvLogOptions : new LogOptions
        {
            SegmentBytes = KvLogOptions.SegmentBytes,
            PreallocateBytes = KvLogOptions.PreallocateBytes,
            UseBatchCache = false,
            RetentionTime = null,
            IndexIntervalBytes = KvLogOptions.IndexIntervalBytes,
            Files = files,
        };
        var log = await PartitionLog.OpenAsync(directory, options);
        var store = new KvStore(log, snapshotMinBytes);
        try
        {
            await store.ReplayAsync();
        }
        catch
        {
            await log.DisposeAsync();
            throw;
        }
        return store;
    }

    public bool TryGet(string key, out ReadOnlyMemory<byte> value)
    {
        bool found = _state.TryGetValue(key, out var bytes);
        value = bytes;
        return found;
    }

    public bool TryGetInt64(string key, out long value)
    {
        value = 0;
        if (!_state.TryGetValue(key, out var bytes) || bytes.Length != 8)
        {
            return false;
        }
        value = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(bytes);
        return true;
    }

    public ValueTask PutInt64Async(string key, long value)
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return PutAsync(key, bytes);
    }

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>; durable when this completes.</summary>
    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> value) => WriteAsync(key, value.ToArray());

    /// <summary>Removes <paramref name="key"/>; durable when this completes.</summary>
    public ValueTask DeleteAsync(string key) => WriteAsync([(key, null)]);

    /// <summary>Stores (a null value: removes) every entry as one batch: all of them are durable when this completes,
    /// and a crash keeps all or none (recovery drops a torn batch whole). One fdatasync however many entries.</summary>
    public ValueTask PutManyAsync(IReadOnlyList<(string Key, byte[]? Value)> entries) => WriteAsync(entries);

    private ValueTask WriteAsync(string key, byte[]? value) => WriteAsync([(key, value)]);

    private async ValueTask WriteAsync(IReadOnlyList<(string Key, byte[]? Value)> entries)
    {
        foreach (var (key, _) in entries)
        {
            ArgumentException.ThrowIfNullOrEmpty(key);
            if (key[0] == '\0')
            {
                throw new ArgumentException("kvstore keys may not start with NUL", nameof(entries));
            }
        }
        if (entries.Count == 0)
        {
            return;
        }
        await _gate.EnterAsync();
        try
        {
            _builder.Reset(0);
            foreach (var (key, value) in entries)
            {
                _builder.Add(0, Encoding.UTF8.GetBytes(key), value, valueIsNull: value is null);
            }
            await _log.AppendAsync(_builder.Finish());
            foreach (var (key, value) in entries)
            {
                Apply(key, value);
            }
            if (_log.SizeBytes > Math.Max(_snapshotMinBytes, 4 * _liveBytes))
            {
                await SnapshotAsync();
            }
        }
        finally
        {
            _gate.Exit();
        }
    }

    private async ValueTask SnapshotAsync()
    {
        await _log.RollAsync();
        _builder.Reset(0);
        _builder.Add(0, Encoding.UTF8.GetBytes(SnapshotKey), [], valueIsNull: true);
        foreach (var (key, value) in _state)
        {
            _builder.Add(0, Encoding.UTF8.GetBytes(key), value);
        }
        long snapshotAt = await _log.AppendAsync(_builder.Finish());
        await _log.SetStartOffsetAsync(snapshotAt);
        Snapshots++;
    }

    private async ValueTask ReplayAsync()
    {
        long offset = _log.StartOffset;
        while (offset < _log.LogEndOffset)
        {
            using var read = await _log.ReadAsync(offset, 1 << 20);
            foreach (var batch in RecordBatch.Enumerate(read.Records.Span))
            {
                var reader = batch.ReadRecords();
                while (reader.TryNext(out var record))
                {
                    string key = Encoding.UTF8.GetString(record.Key);
                    if (key == SnapshotKey)
                    {
                        _state.Clear();
                        _liveBytes = 0;
                        continue;
                    }
                    Apply(key, record.HasValue ? record.Value.ToArray() : null);
                }
                if (reader.Malformed)
                {
                    throw new LogCorruptedException($"{_log.Directory}: kvstore batch at offset {batch.BaseOffset} holds a malformed record");
                }
            }
            offset = read.NextOffset;
        }
    }

    private void Apply(string key, byte[]? value)
    {
        if (_state.Remove(key, out var old))
        {
            _liveBytes -= key.Length + old.Length;
        }
        if (value is not null)
        {
            _state[key] = value;
            _liveBytes += key.Length + value.Length;
        }
    }

    public ValueTask DisposeAsync() => _log.DisposeAsync();
}
