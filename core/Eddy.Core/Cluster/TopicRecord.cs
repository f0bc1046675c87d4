using System.Buffers.Binary;
using System.Text;

namespace Eddy.Cluster;

/// <summary>
/// The stored form of a <see cref="TopicInfo"/> in the metadata store: a version byte, then fixed-width integers
/// (big-endian) and length-prefixed UTF-8 strings. A record this code cannot read stops the node at start
/// rather than dropping a topic.
/// </summary>
internal static class TopicRecord
{
    private const byte Version = 1;

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
        return [.. buffer];
    }

    public static TopicInfo Decode(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || data[0] != Version)
        {
            throw new InvalidDataException($"topic record version {(data.IsEmpty ? "none" : data[0].ToString())} is not {Version}");
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
        return new TopicInfo(name, id, partitions, replication, configs, revision, isInternal);
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
