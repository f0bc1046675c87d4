using System.Buffers.Binary;
using System.Globalization;
using Eddy.Rpc;
using Eddy.Storage;

namespace Eddy.Raft.Driver;

/// <summary>
/// The Raft groups' hard state (term, vote, commit) on one shard, in a kvstore of its own: what must be durable before
/// a vote or an append acknowledgement leaves the node (docs/raft.md). The driver hands over every group whose hard
/// state changed in one Ready round and <see cref="SaveAsync"/> writes them as one batch, so a round costs one
/// fdatasync however many groups voted or moved their commit, and a crash keeps the whole round or none of it.
/// Beside it, a partition group's membership changes (<see cref="LoadMembership"/>): where its log holds them, so a
/// restart finds them without reading the whole log; and its snapshot (<see cref="LoadSnapshot"/>): where its log starts
/// (the index, the term before it, the membership there) once retention or a leader's snapshot moved the start; and
/// the start DeleteRecords gave it (<see cref="LoadLogStart"/>), which may lie inside its first segment.
/// Everything is read into memory at open; loads do no I/O. Shard thread only.
/// </summary>
public sealed class RaftStateStore : IAsyncDisposable
{
    private const string KeyPrefix = "raft/";
    private const string MembershipPrefix = "raft-members/";
    private const string SnapshotPrefix = "raft-snapshot/";
    private const string LogStartPrefix = "raft-log-start/";
    private const int ValueBytes = 8 + 4 + 8;

    private readonly KvStore _store;

    private RaftStateStore(KvStore store) => _store = store;

    /// <summary>Opens (replaying) or creates the store in <paramref name="directory"/>.</summary>
    public static async ValueTask<RaftStateStore> OpenAsync(string directory)
    {
        await Runtime.Shard.Current!.Files.CreateDirectoryAsync(directory);
        return new RaftStateStore(await KvStore.OpenAsync(directory));
    }

    /// <summary>The groups with a stored hard state.</summary>
    public int Count => _store.Keys.Count(k => k.StartsWith(KeyPrefix, StringComparison.Ordinal));

    /// <summary>The stored hard state of <paramref name="group"/>; a group never saved starts at term 0, no vote.</summary>
    public HardState Load(long group)
    {
        return _store.TryGet(Key(group), out var value) ? Decode(value.Span, $"group {group}") : default;
    }

    /// <summary>A hard state as stored: int64 term, int32 vote, int64 commit, big-endian (also the controller's store).</summary>
    internal static byte[] Encode(HardState state)
    {
        var value = new byte[ValueBytes];
        BinaryPrimitives.WriteInt64BigEndian(value, state.Term);
        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(8), state.Vote);
        BinaryPrimitives.WriteInt64BigEndian(value.AsSpan(12), state.Commit);
        return value;
    }

    internal static HardState Decode(ReadOnlySpan<byte> value, string whose)
    {
        if (value.Length != ValueBytes)
        {
            throw new LogCorruptedException($"raft state of {whose}: {value.Length} bytes, expected {ValueBytes}");
        }
        return new HardState(BinaryPrimitives.ReadInt64BigEndian(value), BinaryPrimitives.ReadInt32BigEndian(value[8..]), BinaryPrimitives.ReadInt64BigEndian(value[12..]));
    }

    /// <summary>
    /// A partition group's membership changes as last saved: the config entries its log holds (index, term, the change)
    /// and the log end through which the log was searched for them; offsets past it must be searched again at open.
    /// </summary>
    public (long ScannedThrough, List<Entry> Changes) LoadMembership(long group)
    {
        var changes = new List<Entry>();
        if (!_store.TryGet(MembershipPrefix + group.ToString(CultureInfo.InvariantCulture), out var value))
        {
            return (0, changes);
        }
        var span = value.Span;
        try
        {
            long scanned = BinaryPrimitives.ReadInt64BigEndian(span);
            int count = BinaryPrimitives.ReadInt32BigEndian(span[8..]);
            span = span[12..];
            for (int i = 0; i < count; i++)
            {
                long term = BinaryPrimitives.ReadInt64BigEndian(span);
                long index = BinaryPrimitives.ReadInt64BigEndian(span[8..]);
                var change = span.Slice(16, ConfigChange.EncodedLength).ToArray();
                changes.Add(new Entry(term, index, EntryType.ConfigChange, change));
                span = span[(16 + ConfigChange.EncodedLength)..];
            }
            return span.IsEmpty ? (scanned, changes) : throw new ArgumentOutOfRangeException(nameof(group));
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or RaftInvariantException)
        {
            throw new LogCorruptedException($"raft membership of group {group} is damaged ({value.Length} bytes)");
        }
    }

    private static byte[] EncodeMembership(long scannedThrough, IReadOnlyList<Entry> changes)
    {
        var value = new byte[12 + changes.Count * (16 + ConfigChange.EncodedLength)];
        BinaryPrimitives.WriteInt64BigEndian(value, scannedThrough);
        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(8), changes.Count);
        int at = 12;
        foreach (var change in changes)
        {
            BinaryPrimitives.WriteInt64BigEndian(value.AsSpan(at), change.Term);
            BinaryPrimitives.WriteInt64BigEndian(value.AsSpan(at + 8), change.Index);
            change.Data.Span.CopyTo(value.AsSpan(at + 16));
            at += 16 + ConfigChange.EncodedLength;
        }
        return value;
    }

    /// <summary>Makes every given hard state, and the given groups' membership changes, durable in one write; completes
    /// once fdatasynced. A term or a commit that goes back is refused: the core never does that, so it would be a bug
    /// that loses a vote's promise.</summary>
    public ValueTask SaveAsync(IReadOnlyList<(long Group, HardState State)> changes,
        IReadOnlyList<(long Group, long ScannedThrough, IReadOnlyList<Entry> Changes)>? memberships = null)
    {
        var entries = new List<(string, byte[]?)>(changes.Count + (memberships?.Count ?? 0));
        foreach (var (group, state) in changes)
        {
            var stored = Load(group);
            if (state.Term < stored.Term || (state.Term == stored.Term && state.Vote != stored.Vote && stored.Vote != 0) || state.Commit < stored.Commit)
            {
                throw new InvalidOperationException($"group {group}: hard state {state} would go back from {stored}");
            }
            entries.Add((Key(group), Encode(state)));
        }
        foreach (var (group, scanned, members) in memberships ?? [])
        {
            entries.Add((MembershipPrefix + group.ToString(CultureInfo.InvariantCulture), EncodeMembership(scanned, members)));
        }
        return _store.PutManyAsync(entries);
    }

    /// <summary>Where a partition group's log starts, as last saved: null while it starts at offset 0.</summary>
    public SnapshotImage? LoadSnapshot(long group)
    {
        if (!_store.TryGet(SnapshotKey(group), out var value))
        {
            return null;
        }
        try
        {
            var reader = new RpcReader(value.Span);
            var image = NodeEnvelopeCodec.ReadImage(ref reader);
            reader.End();
            return image;
        }
        catch (RpcFormatException e)
        {
            throw new LogCorruptedException($"raft snapshot of group {group} is damaged: {e.Message}");
        }
    }

    /// <summary>Saves where a partition group's log starts now, with its membership changes after that, in one write;
    /// completes once fdatasynced. Saved before the log's prefix goes, so a restart always knows the start.</summary>
    public ValueTask SaveSnapshotAsync(long group, SnapshotImage image, long scannedThrough, IReadOnlyList<Entry> changes)
    {
        var writer = new RpcWriter();
        NodeEnvelopeCodec.WriteImage(image, writer);
        return _store.PutManyAsync([
            (SnapshotKey(group), writer.Written.ToArray()),
            (MembershipPrefix + group.ToString(CultureInfo.InvariantCulture), EncodeMembership(scannedThrough, changes)),
        ]);
    }

    /// <summary>The offset below which DeleteRecords deleted a partition group's records, as last saved: 0 if never.</summary>
    public long LoadLogStart(long group)
        => _store.TryGet(LogStartPrefix + group.ToString(CultureInfo.InvariantCulture), out var value) && value.Length == 8
            ? BinaryPrimitives.ReadInt64BigEndian(value.Span)
            : 0;

    /// <summary>Saves the offset below which DeleteRecords deleted a partition group's records; completes once
    /// fdatasynced.</summary>
    public ValueTask SaveLogStartAsync(long group, long offset)
    {
        var value = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(value, offset);
        return _store.PutManyAsync([(LogStartPrefix + group.ToString(CultureInfo.InvariantCulture), value)]);
    }

    /// <summary>Forgets a group that left this node.</summary>
    public ValueTask RemoveAsync(long group) =>
        _store.PutManyAsync([(Key(group), null), (MembershipPrefix + group.ToString(CultureInfo.InvariantCulture), null), (SnapshotKey(group), null),
            (LogStartPrefix + group.ToString(CultureInfo.InvariantCulture), null)]);

    private static string SnapshotKey(long group) => SnapshotPrefix + group.ToString(CultureInfo.InvariantCulture);

    private static string Key(long group) => KeyPrefix + group.ToString(CultureInfo.InvariantCulture);

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}
