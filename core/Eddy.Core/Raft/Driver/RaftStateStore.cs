using System.Buffers.Binary;
using System.Globalization;
using Eddy.Storage;

namespace Eddy.Raft.Driver;

/// <summary>
/// The Raft groups' hard state (term, vote, commit) on one shard, in a kvstore of its own: what must be durable before
/// a vote or an append acknowledgement leaves the node (docs/raft.md). The driver hands over every group whose hard
/// state changed in one Ready round and <see cref="SaveAsync"/> writes them as one batch, so a round costs one
/// fdatasync however many groups voted or moved their commit, and a crash keeps the whole round or none of it.
/// Everything is read into memory at open; <see cref="Load"/> does no I/O. Shard thread only.
/// </summary>
public sealed class RaftStateStore : IAsyncDisposable
{
    private const string KeyPrefix = "raft/";
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
    public int Count => _store.Count;

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

    /// <summary>Makes every given hard state durable in one write; completes once fdatasynced. A term or a commit that
    /// goes back is refused: the core never does that, so it would be a bug that loses a vote's promise.</summary>
    public ValueTask SaveAsync(IReadOnlyList<(long Group, HardState State)> changes)
    {
        var entries = new List<(string, byte[]?)>(changes.Count);
        foreach (var (group, state) in changes)
        {
            var stored = Load(group);
            if (state.Term < stored.Term || (state.Term == stored.Term && state.Vote != stored.Vote && stored.Vote != 0) || state.Commit < stored.Commit)
            {
                throw new InvalidOperationException($"group {group}: hard state {state} would go back from {stored}");
            }
            entries.Add((Key(group), Encode(state)));
        }
        return _store.PutManyAsync(entries);
    }

    /// <summary>Forgets a group that left this node.</summary>
    public ValueTask RemoveAsync(long group) => _store.DeleteAsync(Key(group));

    private static string Key(long group) => KeyPrefix + group.ToString(CultureInfo.InvariantCulture);

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}
