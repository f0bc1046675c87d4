using Eddy.Kafka.Protocol;

namespace Eddy.Kafka.Groups;

/// <summary>A committed offset as the coordinator keeps and stores it.</summary>
public readonly record struct CommittedOffset(long Offset, int LeaderEpoch, string Metadata, long CommitTimestamp);

/// <summary>A topic partition named by topic name.</summary>
public readonly record struct TopicPartition(string Topic, int Partition);

/// <summary>One member as stored in a group metadata record.</summary>
internal sealed record MemberSnapshot(string MemberId, string? GroupInstanceId, string ClientId, string ClientHost,
    int RebalanceTimeoutMs, int SessionTimeoutMs, byte[] Subscription, byte[] Assignment);

/// <summary>A group as stored in a group metadata record (after each rebalance, or when it becomes empty).</summary>
internal sealed record GroupSnapshot(string ProtocolType, int Generation, string? Protocol, string? Leader, long CurrentStateTimestamp,
    List<MemberSnapshot> Members);

/// <summary>What a `__consumer_offsets` record key names.</summary>
internal enum OffsetsRecordKind
{
    Unknown,
    OffsetCommit,
    GroupMetadata,
}

/// <summary>
/// The record keys and values of `__consumer_offsets`, in Kafka's own layouts so the topic reads the same as a Kafka
/// broker's: offset commit key v1 (group, topic, partition) with value v3 (offset, leader epoch, metadata, commit
/// timestamp); group metadata key v2 (group) with value v3 (protocol type, generation, protocol, leader, state
/// timestamp, members). Every layout starts with an int16 version. Reading accepts every version Kafka has written
/// (offset values 0-4, group values 0-4, flexible from 4). A null value is a tombstone.
/// </summary>
internal static class OffsetsRecords
{
    private const short OffsetKeyVersion = 1;
    private const short GroupKeyVersion = 2;
    private const short OffsetValueVersion = 3;
    private const short GroupValueVersion = 3;

    public static byte[] OffsetKey(string groupId, string topic, int partition)
    {
        using var w = new KafkaWriter(64);
        w.WriteInt16(OffsetKeyVersion);
        w.WriteString(groupId, compact: false);
        w.WriteString(topic, compact: false);
        w.WriteInt32(partition);
        return w.ToArray();
    }

    public static byte[] OffsetValue(CommittedOffset offset)
    {
        using var w = new KafkaWriter(64);
        w.WriteInt16(OffsetValueVersion);
        w.WriteInt64(offset.Offset);
        w.WriteInt32(offset.LeaderEpoch);
        w.WriteString(offset.Metadata, compact: false);
        w.WriteInt64(offset.CommitTimestamp);
        return w.ToArray();
    }

    public static byte[] GroupKey(string groupId)
    {
        using var w = new KafkaWriter(64);
        w.WriteInt16(GroupKeyVersion);
        w.WriteString(groupId, compact: false);
        return w.ToArray();
    }

    public static byte[] GroupValue(GroupSnapshot group)
    {
        using var w = new KafkaWriter(256);
        w.WriteInt16(GroupValueVersion);
        w.WriteString(group.ProtocolType, compact: false);
        w.WriteInt32(group.Generation);
        w.WriteString(group.Protocol, compact: false, allowNull: true);
        w.WriteString(group.Leader, compact: false, allowNull: true);
        w.WriteInt64(group.CurrentStateTimestamp);
        w.WriteArrayLength(group.Members.Count, compact: false);
        foreach (var m in group.Members)
        {
            w.WriteString(m.MemberId, compact: false);
            w.WriteString(m.GroupInstanceId, compact: false, allowNull: true);
            w.WriteString(m.ClientId, compact: false);
            w.WriteString(m.ClientHost, compact: false);
            w.WriteInt32(m.RebalanceTimeoutMs);
            w.WriteInt32(m.SessionTimeoutMs);
            w.WriteBytes(m.Subscription, compact: false);
            w.WriteBytes(m.Assignment, compact: false);
        }
        return w.ToArray();
    }

    /// <summary>Reads a key. Throws <see cref="KafkaProtocolException"/> when it is malformed.</summary>
    public static OffsetsRecordKind ReadKey(ReadOnlySpan<byte> key, out string groupId, out TopicPartition partition)
    {
        var r = KafkaReader.OverSpan(key);
        short version = r.ReadInt16();
        groupId = "";
        partition = default;
        switch (version)
        {
            case 0 or 1:
                groupId = r.ReadString(compact: false);
                string topic = r.ReadString(compact: false);
                partition = new TopicPartition(topic, r.ReadInt32());
                return OffsetsRecordKind.OffsetCommit;
            case 2:
                groupId = r.ReadString(compact: false);
                return OffsetsRecordKind.GroupMetadata;
            default:
                return OffsetsRecordKind.Unknown;
        }
    }

    public static CommittedOffset ReadOffsetValue(ReadOnlySpan<byte> value)
    {
        var r = KafkaReader.OverSpan(value);
        short version = r.ReadInt16();
        if (version is < 0 or > 4)
        {
            r.Fail($"offset commit value version {version}");
        }
        bool flexible = version >= 4;
        long offset = r.ReadInt64();
        int leaderEpoch = version >= 3 ? r.ReadInt32() : -1;
        string metadata = r.ReadString(flexible);
        long timestamp = r.ReadInt64();
        if (version == 1)
        {
            r.ReadInt64(); // expire timestamp: retention is the broker's business now
        }
        if (flexible)
        {
            SkipTags(ref r);
        }
        return new CommittedOffset(offset, leaderEpoch, metadata, timestamp);
    }

    public static GroupSnapshot ReadGroupValue(ReadOnlySpan<byte> value)
    {
        var r = KafkaReader.OverSpan(value);
        short version = r.ReadInt16();
        if (version is < 0 or > 4)
        {
            r.Fail($"group metadata value version {version}");
        }
        bool flexible = version >= 4;
        string protocolType = r.ReadString(flexible);
        int generation = r.ReadInt32();
        string? protocol = r.ReadNullableString(flexible, allowNull: true);
        string? leader = r.ReadNullableString(flexible, allowNull: true);
        long stateTimestamp = version >= 2 ? r.ReadInt64() : -1;
        int count = r.ReadArrayLength(flexible, allowNull: false);
        var members = new List<MemberSnapshot>(count);
        for (int i = 0; i < count; i++)
        {
            string memberId = r.ReadString(flexible);
            string? instanceId = version >= 3 ? r.ReadNullableString(flexible, allowNull: true) : null;
            string clientId = r.ReadString(flexible);
            string clientHost = r.ReadString(flexible);
            int rebalanceTimeout = version >= 1 ? r.ReadInt32() : -1;
            int sessionTimeout = r.ReadInt32();
            byte[] subscription = r.ReadBytes(flexible);
            byte[] assignment = r.ReadBytes(flexible);
            if (flexible)
            {
                SkipTags(ref r);
            }
            // Before v1 there was one timeout for both.
            members.Add(new MemberSnapshot(memberId, instanceId, clientId, clientHost,
                rebalanceTimeout < 0 ? sessionTimeout : rebalanceTimeout, sessionTimeout, subscription, assignment));
        }
        if (flexible)
        {
            SkipTags(ref r);
        }
        return new GroupSnapshot(protocolType, generation, protocol, leader, stateTimestamp, members);
    }

    private static void SkipTags(ref KafkaReader r)
    {
        int tags = r.ReadTagCount();
        for (int i = 0; i < tags; i++)
        {
            r.ReadTag();
            r.Skip(r.ReadTagSize());
        }
    }
}
