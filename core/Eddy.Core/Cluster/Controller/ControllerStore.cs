using System.Buffers.Binary;
using System.Globalization;
using Eddy.Raft;
using Eddy.Raft.Driver;
using Eddy.Rpc;
using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>
/// The controller's durable Raft state on shard 0, in a kvstore of its own (DATA/controller/raft): this node's id, the
/// voters the cluster formed with, the hard state (term, vote, commit), the log after the last snapshot (one key per
/// entry) and that snapshot. Everything one Ready asks for is one kvstore batch, so one fdatasync, and a crash keeps
/// all of it or none. The log stays short because the controller snapshots its state every few hundred commands;
/// its entries are read into memory at open and kept there (<see cref="Log"/>), which is what the Raft core reads.
/// Every controller command covers one index. Shard 0 only.
/// </summary>
internal sealed class ControllerStore : IAsyncDisposable
{
    private const string NodeIdKey = "node-id";
    private const string BootstrapKey = "bootstrap-voters";
    private const string HardStateKey = "hard-state";
    private const string SnapshotKey = "snapshot";
    private const string EntryPrefix = "entry/";
    private const string JoinTokenKey = "join-token";

    private readonly KvStore _store;
    private long _firstIndex = 1; // the first entry kept (after the snapshot)
    private long _lastIndex;      // the last entry kept; _firstIndex - 1 when none

    private ControllerStore(KvStore store) => _store = store;

    public static async ValueTask<ControllerStore> OpenAsync(string directory)
    {
        await Runtime.Shard.Current!.Files.CreateDirectoryAsync(directory);
        return new ControllerStore(await KvStore.OpenAsync(directory));
    }

    /// <summary>The node id this data directory belongs to, 0 before the first start recorded one.</summary>
    public int NodeId => _store.TryGetInt64(NodeIdKey, out long id) ? (int)id : 0;

    /// <summary>Records the node id and the bootstrap voters at a first start, in one write.</summary>
    public ValueTask PutIdentityAsync(int nodeId, int[] voters)
    {
        var id = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(id, nodeId); // as KvStore.PutInt64Async writes it
        return _store.PutManyAsync([(NodeIdKey, id), (BootstrapKey, EncodeVoters(voters))]);
    }

    /// <summary>The token this node asks to join with, kept before it asks so that asking again gets the same id.</summary>
    public Guid? JoinToken => _store.TryGet(JoinTokenKey, out var value) ? new Guid(value.Span, bigEndian: true) : null;

    public ValueTask PutJoinTokenAsync(Guid token) => _store.PutAsync(JoinTokenKey, token.ToByteArray(bigEndian: true));

    /// <summary>The voters the controller group started with (before any membership change in its log); null before
    /// the first start recorded them.</summary>
    public int[]? BootstrapVoters
    {
        get
        {
            if (!_store.TryGet(BootstrapKey, out var value))
            {
                return null;
            }
            var reader = new RpcReader(value.Span);
            var voters = reader.ReadInt32s(ClusterBootstrap.MaxSeeds);
            reader.End();
            return voters;
        }
    }

    private static byte[] EncodeVoters(int[] voters)
    {
        var writer = new RpcWriter();
        writer.WriteInt32s(voters);
        return writer.Written.ToArray();
    }

    /// <summary>The entries after the snapshot, as the kvstore holds them (written here as they are saved).</summary>
    public MemoryLogStorage Log { get; private set; } = new();

    /// <summary>What the group restarts from: hard state and snapshot; the entries after it go to <see cref="Log"/>.</summary>
    public PersistedState Load()
    {
        var hard = _store.TryGet(HardStateKey, out var h) ? RaftStateStore.Decode(h.Span, "the controller") : default;
        SnapshotImage? snapshot = _store.TryGet(SnapshotKey, out var s) ? DecodeSnapshot(s.Span) : null;
        var entries = new List<Entry>();
        _firstIndex = (snapshot?.Index ?? 0) + 1;
        for (long index = _firstIndex; _store.TryGet(EntryKey(index), out var e); index++)
        {
            entries.Add(DecodeEntry(index, e.Span));
        }
        _lastIndex = _firstIndex + entries.Count - 1;
        Log = new MemoryLogStorage(_firstIndex - 1, entries);
        return new PersistedState(hard, snapshot);
    }

    /// <summary>Writes a Ready's entries (replacing the log from the first of them on) and hard state, in one batch.</summary>
    public ValueTask SaveAsync(List<Entry> entries, HardState? hard)
    {
        var batch = new List<(string, byte[]?)>(entries.Count + 1);
        long newLast = _lastIndex;
        if (entries.Count > 0)
        {
            foreach (var entry in entries)
            {
                if (entry.Span != 1)
                {
                    throw new InvalidOperationException($"controller entry {entry} covers more than one index");
                }
                batch.Add((EntryKey(entry.Index), EncodeEntry(entry)));
            }
            newLast = entries[^1].Index;
            // A replaced suffix longer than the new entries: its tail is no longer the log's.
            for (long stale = newLast + 1; stale <= _lastIndex; stale++)
            {
                batch.Add((EntryKey(stale), null));
            }
            Log.Write(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(entries));
        }
        if (hard is { } state)
        {
            batch.Add((HardStateKey, RaftStateStore.Encode(state)));
        }
        _lastIndex = newLast;
        return batch.Count == 0 ? ValueTask.CompletedTask : _store.PutManyAsync(batch);
    }

    /// <summary>Records a snapshot and drops the entries it covers: this node's own compaction (entries after it stay),
    /// or a leader's image installed over the whole log (<paramref name="replacesLog"/>).</summary>
    public ValueTask SaveSnapshotAsync(SnapshotImage image, bool replacesLog)
    {
        var batch = new List<(string, byte[]?)> { (SnapshotKey, EncodeSnapshot(image)) };
        long dropThrough = replacesLog ? _lastIndex : image.Index;
        for (long index = _firstIndex; index <= dropThrough; index++)
        {
            batch.Add((EntryKey(index), null));
        }
        _firstIndex = image.Index + 1;
        _lastIndex = replacesLog ? image.Index : Math.Max(_lastIndex, image.Index);
        if (replacesLog)
        {
            Log.Reset(image.Index);
        }
        else
        {
            Log.Compact(image.Index);
        }
        return _store.PutManyAsync(batch);
    }

    private static string EntryKey(long index) => EntryPrefix + index.ToString("D19", CultureInfo.InvariantCulture);

    private static byte[] EncodeEntry(in Entry entry)
    {
        var value = new byte[9 + entry.Data.Length];
        BinaryPrimitives.WriteInt64BigEndian(value, entry.Term);
        value[8] = (byte)entry.Type;
        entry.Data.Span.CopyTo(value.AsSpan(9));
        return value;
    }

    private static Entry DecodeEntry(long index, ReadOnlySpan<byte> value)
    {
        if (value.Length < 9 || value[8] > (byte)EntryType.ConfigChange || BinaryPrimitives.ReadInt64BigEndian(value) <= 0)
        {
            throw new LogCorruptedException($"controller log entry {index} is damaged ({value.Length} bytes)");
        }
        return new Entry(BinaryPrimitives.ReadInt64BigEndian(value), index, (EntryType)value[8], value[9..].ToArray());
    }

    private static byte[] EncodeSnapshot(SnapshotImage image)
    {
        var writer = new RpcWriter();
        NodeEnvelopeCodec.WriteImage(image, writer);
        return writer.Written.ToArray();
    }

    private static SnapshotImage DecodeSnapshot(ReadOnlySpan<byte> value)
    {
        try
        {
            var reader = new RpcReader(value);
            var image = NodeEnvelopeCodec.ReadImage(ref reader);
            reader.End();
            return image;
        }
        catch (RpcFormatException e)
        {
            throw new LogCorruptedException($"the controller snapshot is damaged: {e.Message}");
        }
    }

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}
