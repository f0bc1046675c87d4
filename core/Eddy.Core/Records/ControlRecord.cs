using System.Buffers.Binary;

namespace Eddy.Records;

/// <summary>Control record types: Kafka's transaction markers and KRaft's leader change (a new Raft leader's first entry
/// in a partition log), and Eddy's own Raft membership change and log start (DeleteRecords on a replicated partition),
/// numbered far from Kafka's.</summary>
public enum ControlRecordType : short { Abort = 0, Commit = 1, LeaderChange = 2, RaftMembershipChange = 1000, LogStart = 1001 }

/// <summary>
/// The records of control batches, in Kafka's key layout: key version 0 and the type, both int16 (librdkafka fails a
/// whole fetch on any other key size). A transaction marker's value is version 0 and the coordinator epoch.
/// </summary>
public static class ControlRecord
{
    public const int KeySize = 4;

    /// <summary>A transaction marker: a transactional control batch holding one record.</summary>
    public static byte[] Marker(ControlRecordType type, int coordinatorEpoch, long producerId, short producerEpoch, long timestamp)
    {
        var builder = new RecordBatchBuilder
        {
            ProducerId = producerId,
            ProducerEpoch = producerEpoch,
            Attributes = RecordBatch.TransactionalFlag | RecordBatch.ControlFlag,
        };
        Span<byte> key = stackalloc byte[KeySize];
        Span<byte> value = stackalloc byte[6];
        BinaryPrimitives.WriteInt16BigEndian(key, 0);
        BinaryPrimitives.WriteInt16BigEndian(key[2..], (short)type);
        BinaryPrimitives.WriteInt16BigEndian(value, 0);
        BinaryPrimitives.WriteInt32BigEndian(value[2..], coordinatorEpoch);
        builder.Add(timestamp, key, value);
        return builder.Finish().ToArray();
    }

    /// <summary>
    /// A new Raft leader's first entry (the no-op that commits earlier terms' entries) as a partition log holds it: a
    /// non-transactional control batch of one record, which consumers skip as they skip KRaft's leader changes. The
    /// value is version 0 and the leader's node id.
    /// </summary>
    public static byte[] LeaderChange(long offset, int term, int leaderId, long timestamp)
    {
        Span<byte> value = stackalloc byte[6];
        BinaryPrimitives.WriteInt16BigEndian(value, 0);
        BinaryPrimitives.WriteInt32BigEndian(value[2..], leaderId);
        return RaftControl(ControlRecordType.LeaderChange, value, offset, term, timestamp);
    }

    /// <summary>
    /// A change to a partition's Raft voters and learners as its log holds it: a non-transactional control batch of one
    /// record (consumers skip it) whose value is version 0 and the change as the Raft core encodes it.
    /// </summary>
    public static byte[] MembershipChange(long offset, int term, ReadOnlySpan<byte> change, long timestamp)
    {
        var value = new byte[2 + change.Length];
        change.CopyTo(value.AsSpan(2));
        return RaftControl(ControlRecordType.RaftMembershipChange, value, offset, term, timestamp);
    }

    /// <summary>
    /// DeleteRecords on a replicated partition as its log holds it: a non-transactional control batch of one record
    /// (consumers never see it) whose value is version 0 and the new log start offset, which every replica applies once
    /// the batch is committed.
    /// </summary>
    public static byte[] LogStart(long startOffset, long timestamp)
    {
        Span<byte> value = stackalloc byte[10];
        BinaryPrimitives.WriteInt16BigEndian(value, 0);
        BinaryPrimitives.WriteInt64BigEndian(value[2..], startOffset);
        // Its offset and term are the leader's to give, as for any proposed batch.
        return RaftControl(ControlRecordType.LogStart, value, offset: 0, term: -1, timestamp);
    }

    /// <summary>A non-transactional control batch of one record of <paramref name="type"/>, as the Raft driver writes
    /// its own entries.</summary>
    private static byte[] RaftControl(ControlRecordType type, ReadOnlySpan<byte> value, long offset, int term, long timestamp)
    {
        var builder = new RecordBatchBuilder { BaseOffset = offset, PartitionLeaderEpoch = term, Attributes = RecordBatch.ControlFlag };
        Span<byte> key = stackalloc byte[KeySize];
        BinaryPrimitives.WriteInt16BigEndian(key, 0);
        BinaryPrimitives.WriteInt16BigEndian(key[2..], (short)type);
        builder.Add(timestamp, key, value);
        return builder.Finish().ToArray();
    }

    /// <summary>The start offset a log start control batch names (<see cref="LogStart"/>), or null for any other batch.</summary>
    public static long? ReadLogStart(ReadOnlySpan<byte> batch)
    {
        var header = new RecordBatch(batch);
        if (!header.IsControl || header.IsTransactional || header.RecordCount != 1)
        {
            return null;
        }
        var records = header.ReadRecords();
        if (!records.TryNext(out var record) || ReadType(record.Key) != ControlRecordType.LogStart
            || record.Value.Length != 10 || BinaryPrimitives.ReadInt16BigEndian(record.Value) != 0)
        {
            return null;
        }
        return BinaryPrimitives.ReadInt64BigEndian(record.Value[2..]);
    }

    /// <summary>The change a membership control batch holds (<see cref="MembershipChange"/>), or null for any other batch.</summary>
    public static byte[]? ReadMembershipChange(ReadOnlySpan<byte> batch)
    {
        var header = new RecordBatch(batch);
        if (!header.IsControl || header.RecordCount != 1)
        {
            return null;
        }
        var records = header.ReadRecords();
        if (!records.TryNext(out var record) || ReadType(record.Key) != ControlRecordType.RaftMembershipChange
            || record.Value.Length < 2 || BinaryPrimitives.ReadInt16BigEndian(record.Value) != 0)
        {
            return null;
        }
        return record.Value[2..].ToArray();
    }

    /// <summary>The type a control record's key names; null when the key is not a version 0 control key.</summary>
    public static ControlRecordType? ReadType(ReadOnlySpan<byte> key) =>
        key.Length >= KeySize && BinaryPrimitives.ReadInt16BigEndian(key) == 0 ? (ControlRecordType)BinaryPrimitives.ReadInt16BigEndian(key[2..]) : null;
}
