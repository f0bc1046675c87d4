using Eddy.Kafka.Groups;

namespace Eddy.Groups.Tests;

/// <summary>The `__consumer_offsets` record layouts, byte for byte as Kafka writes them, and the older versions Kafka wrote.</summary>
public sealed class OffsetsRecordsTests
{
    private static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    [Fact]
    public void OffsetCommitKeyAndValueUseKafkasLayouts()
    {
        // Key v1: version, group, topic, partition.
        Assert.Equal(Bytes("0001 0001 67 0002 7431 00000007"), OffsetsRecords.OffsetKey("g", "t1", 7));
        // Value v3: version, offset, leader epoch, metadata, commit timestamp.
        Assert.Equal(Bytes("0003 000000000000002A 00000005 0002 6D64 0000000000000064"),
            OffsetsRecords.OffsetValue(new CommittedOffset(42, 5, "md", 100)));
        Assert.Equal(OffsetsRecordKind.OffsetCommit, OffsetsRecords.ReadKey(OffsetsRecords.OffsetKey("g", "t1", 7), out string group, out var tp));
        Assert.Equal(("g", new TopicPartition("t1", 7)), (group, tp));
        Assert.Equal(new CommittedOffset(42, 5, "md", 100), OffsetsRecords.ReadOffsetValue(OffsetsRecords.OffsetValue(new CommittedOffset(42, 5, "md", 100))));
    }

    [Fact]
    public void OlderOffsetValuesAreRead()
    {
        // v0: offset, metadata, timestamp. v1 adds an expire timestamp. v4 is v3 made flexible (compact string, tags).
        Assert.Equal(new CommittedOffset(9, -1, "x", 3), OffsetsRecords.ReadOffsetValue(Bytes("0000 0000000000000009 0001 78 0000000000000003")));
        Assert.Equal(new CommittedOffset(9, -1, "", 3), OffsetsRecords.ReadOffsetValue(Bytes("0001 0000000000000009 0000 0000000000000003 0000000000000099")));
        Assert.Equal(new CommittedOffset(9, 2, "x", 3), OffsetsRecords.ReadOffsetValue(Bytes("0004 0000000000000009 00000002 02 78 0000000000000003 00")));
    }

    [Fact]
    public void GroupMetadataKeyAndValueUseKafkasLayouts()
    {
        Assert.Equal(Bytes("0002 0002 6731"), OffsetsRecords.GroupKey("g1"));
        var snapshot = new GroupSnapshot("consumer", 3, "range", "m1", 77,
            [new MemberSnapshot("m1", "i1", "c", "/h", 30_000, 10_000, [0xAA], [0xBB, 0xCC])]);
        // Value v3: version, protocol type, generation, protocol, leader, state timestamp, then per member: id,
        // instance id, client id, client host, rebalance timeout, session timeout, subscription, assignment.
        Assert.Equal(Bytes("0003 0008 636F6E73756D6572 00000003 0005 72616E6765 0002 6D31 000000000000004D 00000001"
            + " 0002 6D31 0002 6931 0001 63 0002 2F68 00007530 00002710 00000001 AA 00000002 BBCC"), OffsetsRecords.GroupValue(snapshot));
        var read = OffsetsRecords.ReadGroupValue(OffsetsRecords.GroupValue(snapshot));
        Assert.Equal((snapshot.ProtocolType, snapshot.Generation, snapshot.Protocol, snapshot.Leader, snapshot.CurrentStateTimestamp),
            (read.ProtocolType, read.Generation, read.Protocol, read.Leader, read.CurrentStateTimestamp));
        var m = Assert.Single(read.Members);
        Assert.Equal(("m1", "i1", "c", "/h", 30_000, 10_000, "AA", "BBCC"),
            (m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost, m.RebalanceTimeoutMs, m.SessionTimeoutMs, Convert.ToHexString(m.Subscription), Convert.ToHexString(m.Assignment)));
        Assert.Equal(OffsetsRecordKind.GroupMetadata, OffsetsRecords.ReadKey(OffsetsRecords.GroupKey("g1"), out string group, out _));
        Assert.Equal("g1", group);
    }

    [Fact]
    public void OlderGroupValuesAreRead()
    {
        // v0: no rebalance timeout (it was the session timeout), no state timestamp, no instance id; null protocol and leader.
        var v0 = OffsetsRecords.ReadGroupValue(Bytes("0000 0001 78 00000002 FFFF FFFF 00000001 0001 6D 0001 63 0001 68 00001388 00000000 00000000"));
        Assert.Equal(("x", 2, (string?)null, (string?)null, -1L), (v0.ProtocolType, v0.Generation, v0.Protocol, v0.Leader, v0.CurrentStateTimestamp));
        Assert.Equal((5000, 5000, (string?)null), (v0.Members[0].RebalanceTimeoutMs, v0.Members[0].SessionTimeoutMs, v0.Members[0].GroupInstanceId));
        // v4: flexible, an empty member list and a trailing tag buffer.
        var v4 = OffsetsRecords.ReadGroupValue(Bytes("0004 02 78 00000002 00 00 0000000000000001 01 00"));
        Assert.Equal(("x", 2, 0), (v4.ProtocolType, v4.Generation, v4.Members.Count));
    }

    [Fact]
    public void UnknownKeyVersionsAreSkippedNotMisread()
    {
        Assert.Equal(OffsetsRecordKind.Unknown, OffsetsRecords.ReadKey(Bytes("0009 0001 67"), out _, out _));
    }

    [Theory]
    [InlineData("", 0, 0)]
    [InlineData("hello", 99162322, 2)]
    [InlineData("my-group", -1906497762, 2)]
    [InlineData("console-consumer-40000", 161163475, 3)]
    [InlineData("grüppe", -1233264812, 12)]
    [InlineData("g\U0001F600", 1871882, 10)] // a surrogate pair hashes as two UTF-16 units, as in Java
    [InlineData("polygenelubricants", int.MinValue, 0)] // Kafka's abs() maps int.MinValue to 0
    public void PlacementFollowsJavasStringHashCode(string groupId, int hash, int partitionOf16)
    {
        Assert.Equal(hash, GroupPlacement.JavaStringHashCode(groupId));
        Assert.Equal(partitionOf16, GroupPlacement.PartitionFor(groupId, 16));
    }
}
