using System.Buffers.Binary;
using System.Text;

namespace Eddy.Cluster;

/// <summary>
/// The stored form of a <see cref="TopicInfo"/> in controller commands and snapshots: a version byte, then fixed-width integers
/// (big-endian) and length-prefixed UTF-8 strings. Version 3 adds the reassignment targets (a count, then per partition
/// -1 for none or a replica list); version 2 records, without them, are still read. A record this code cannot read is
/// refused (<see cref="InvalidDataException"/>) rather than read as something else.
/// </summary>
internal static class TopicRecord
{
    private const byte Version = 3;
    private const byte VersionWithoutTargets = 2;

    /// <summary>Bounds a record's replica lists before they allocate.</summary>
    private const int MaxReplicas = 16;

    public static byte[] Encode(TopicInfo topic)
    {
        var buffer = new List<byte>(64) { Version };
        PutString(buffer, topic.Name);
        buffer.AddRange(topic.Id.ToByteArray(bigEndian: true));
        PutInt64(buffer, topic.PartitionCount);
        PutInt64(buffer, topic.ReplicationFactor);
        PutInt64(buffer, topic.Revision);
        buffer.Add(topic.IsInternal ? (byte)1 : (byte)0);
        PutInt64(buffer, topic.Configs.Count);
        foreach (var (name, value) in topic.Configs.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            PutString(buffer, name);
            PutString(buffer, value);
        }
        PutInt64(buffer, topic.Replicas.Count);
        foreach (var replicas in topic.Replicas)
        {
            PutInt64(buffer, replicas.Length);
            foreach (int node in replicas)
            {
                PutInt64(buffer, node);
            }
        }
        PutInt64(buffer, topic.Targets.Count);
        foreach (var target in topic.Targets)
        {
            PutInt64(buffer, target?.Length ?? -1);
            foreach (int node in target ?? [])
            {
                PutInt64(buffer, node);
            }
        }
        return [.. buffer];
    }

    public static TopicInfo Decode(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || data[0] is not (Version or VersionWithoutTargets))
        {
            throw new InvalidDataException($"topic record version {(data.IsEmpty ? "none" : data[0].ToString())} is not {VersionWithoutTargets} or {Version}");
        }
        int at = 1;
        string name = GetString(data, ref at);
        var id = new Guid(Take(data, ref at, 16), bigEndian: true);
        int partitions = checked((int)GetInt64(data, ref at));
        short replication = checked((short)GetInt64(data, ref at));
        long revision = GetInt64(data, ref at);
        bool isInternal = Take(data, ref at, 1)[0] != 0;
        long count = GetInt64(data, ref at);
        if (count < 0 || count > 1024)
        {
            throw new InvalidDataException($"topic record for '{name}' claims {count} configs");
        }
        var configs = new Dictionary<string, string>(StringComparer.Ordinal);
        for (long i = 0; i < count; i++)
        {
            string key = GetString(data, ref at);
            configs[key] = GetString(data, ref at);
        }
        long placed = GetInt64(data, ref at);
        if (placed < 0 || placed > partitions)
        {
            throw new InvalidDataException($"topic record for '{name}' places {placed} of its {partitions} partitions");
        }
        var replicas = new int[placed][];
        for (long p = 0; p < placed; p++)
        {
            replicas[p] = GetReplicas(data, ref at, name, p, allowNone: false)!;
        }
        var targets = Array.Empty<int[]?>();
        if (data[0] == Version)
        {
            long targeted = GetInt64(data, ref at);
            if (targeted < 0 || targeted > partitions)
            {
                throw new InvalidDataException($"topic record for '{name}' gives {targeted} reassignment targets for {partitions} partitions");
            }
            targets = new int[targeted][];
            for (long p = 0; p < targeted; p++)
            {
                targets[p] = GetReplicas(data, ref at, name, p, allowNone: true);
            }
        }
        if (at != data.Length)
        {
            throw new InvalidDataException($"topic record for '{name}' has {data.Length - at} bytes after its end");
        }
        return new TopicInfo(name, id, partitions, replication, configs, revision, isInternal) { Replicas = replicas, Targets = targets };
    }

    /// <summary>A replica list: its length, then its node ids; with <paramref name="allowNone"/>, a length of -1 is no list.</summary>
    private static int[]? GetReplicas(ReadOnlySpan<byte> data, ref int at, string name, long partition, bool allowNone)
    {
        long count = GetInt64(data, ref at);
        if (count == -1 && allowNone)
        {
            return null;
        }
        if (count < 0 || count > MaxReplicas)
        {
            throw new InvalidDataException($"topic record for '{name}' gives partition {partition} {count} replicas");
        }
        var nodes = new int[count];
        for (long r = 0; r < count; r++)
        {
            nodes[r] = checked((int)GetInt64(data, ref at));
        }
        return nodes;
    }

    private static void PutInt64(List<byte> buffer, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        buffer.AddRange(bytes);
    }

    private static void PutString(List<byte> buffer, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        PutInt64(buffer, bytes.Length);
        buffer.AddRange(bytes);
    }

    private static long GetInt64(ReadOnlySpan<byte> data, ref int at) => BinaryPrimitives.ReadInt64BigEndian(Take(data, ref at, 8));

    private static string GetString(ReadOnlySpan<byte> data, ref int at)
    {
        long length = GetInt64(data, ref at);
        if (length < 0 || length > data.Length - at)
        {
            throw new InvalidDataException($"topic record string of {length} bytes runs past the record");
        }
        return Encoding.UTF8.GetString(Take(data, ref at, (int)length));
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> data, ref int at, int count)
    {
        if (count > data.Length - at)
        {
            throw new InvalidDataException("topic record is truncated");
        }
        var slice = data.Slice(at, count);
        at += count;
        return slice;
    }
}
