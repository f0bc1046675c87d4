using Eddy.Raft;
using Eddy.Records;
using Eddy.Rpc;

namespace Eddy.Rpc.Tests;

/// <summary>Raft envelopes on the wire: everything a node sends another in one flush comes back as sent, and a payload
/// cut anywhere or lying about its counts is refused without allocating for what it claims.</summary>
public class NodeEnvelopeCodecTests
{
    internal static NodeEnvelope Sample(int from = 2, int to = 1)
    {
        var batcher = new EnvelopeBatcher(from);
        for (long group = 0; group < 20; group++)
        {
            batcher.Add(group, new Message { Type = MessageType.Heartbeat, From = from, To = to, Term = 3, Commit = 100 + group, Sequence = 9 });
        }
        batcher.Add(7, new Message { Type = MessageType.HeartbeatResponse, From = from, To = to, Term = 3, Commit = 55, Sequence = 8 });
        batcher.Add(1, new Message
        {
            Type = MessageType.Append, From = from, To = to, Term = 4, Index = 10, LogTerm = 3, Commit = 9,
            Entries = [new Entry(4, 11, 15, EntryType.Normal, new byte[] { 1, 2, 3 }), new Entry(4, 16, EntryType.ConfigChange, Array.Empty<byte>())],
        });
        batcher.Add(2, new Message { Type = MessageType.AppendResponse, From = from, To = to, Term = 4, Index = 16, Reject = true, RejectHint = 5, LogTerm = 2 });
        batcher.Add(3, new Message { Type = MessageType.Vote, From = from, To = to, Term = 5, Index = 40, LogTerm = 4, Force = true });
        var flushed = new List<NodeEnvelope>();
        batcher.Flush(flushed);
        return Assert.Single(flushed);
    }

    private static byte[] Encode(NodeEnvelope envelope)
    {
        var writer = new RpcWriter();
        NodeEnvelopeCodec.Write(envelope, writer);
        return writer.Written.ToArray();
    }

    internal static List<string> Describe(NodeEnvelope envelope)
    {
        var messages = new List<GroupMessage>();
        envelope.Unpack(messages);
        return messages.Select(m => $"{m.Group}: {m.Message} reject={m.Message.Reject} hint={m.Message.RejectHint} seq={m.Message.Sequence} force={m.Message.Force} "
            + string.Join(",", (m.Message.Entries ?? []).Select(e => $"{e}[{Convert.ToHexString(e.Data.Span)}]"))).ToList();
    }

    [Fact]
    public void AnEnvelopeComesBackAsSent()
    {
        var sent = Sample();
        var received = NodeEnvelopeCodec.Read(Encode(sent));
        Assert.Equal((sent.From, sent.To, sent.RaftMessageCount), (received.From, received.To, received.RaftMessageCount));
        Assert.Equal(Describe(sent), Describe(received));
    }

    [Fact]
    public void AnEnvelopeWrittenIntoItsFrameIsAsLongAsReckonedAndComesBackAsSent()
    {
        var sent = Sample();
        int length = RpcFrame.HeaderBytes + NodeEnvelopeCodec.EncodedLength(sent);
        var frame = new byte[length + 100]; // a pooled buffer is usually longer than asked
        var writer = new RpcWriter();
        writer.BeginFrame(frame);
        NodeEnvelopeCodec.Write(sent, writer);
        Assert.Equal(length, RpcFrame.HeaderBytes + writer.EndFrame());
        Assert.Equal(Encode(sent).Length, NodeEnvelopeCodec.EncodedLength(sent));
        RpcFrame.Seal(frame.AsSpan(0, length), RpcMessageType.RaftEnvelope, 0);
        Assert.Equal(RpcFrameStatus.Ok, RpcFrame.TryRead(frame, RpcFrame.DefaultMaxFrameBytes, out var read, out int consumed));
        Assert.Equal(length, consumed);
        Assert.Equal(Describe(sent), Describe(NodeEnvelopeCodec.Read(frame.AsSpan(read.PayloadOffset, read.PayloadLength))));
    }

    /// <summary>An append as a leader sends it on the bulk connection: two entries of real batches (one holding two) and
    /// a membership change between them.</summary>
    private static NodeEnvelope BulkSample()
    {
        var batcher = new EnvelopeBatcher(2);
        var builder = new RecordBatchBuilder { BaseOffset = 11, PartitionLeaderEpoch = 4 };
        for (int i = 0; i < 3; i++)
        {
            builder.Add(1000 + i, "key"u8, System.Text.Encoding.UTF8.GetBytes(new string('v', 300 + i)));
        }
        byte[] first = builder.Finish().ToArray();
        byte[] second = [.. RecordBatchBuilder.Empty(15, 15, 4), .. RecordBatchBuilder.Empty(16, 18, 4)];
        batcher.Add(1, new Message
        {
            Type = MessageType.Append, From = 2, To = 1, Term = 4, Index = 10, LogTerm = 3, Commit = 9,
            Entries = [new Entry(4, 11, 13, EntryType.Normal, first), new Entry(4, 14, EntryType.ConfigChange, new byte[] { 7, 7 }),
                new Entry(4, 15, 18, EntryType.Normal, second)],
        });
        var flushed = new List<NodeEnvelope>();
        batcher.Flush(flushed);
        return Assert.Single(flushed);
    }

    /// <summary>The envelope in a whole frame with its batches in the tail, as <see cref="NodeLinks"/> sends it.</summary>
    private static byte[] TailFrame(NodeEnvelope envelope, out int tail)
    {
        int length = RpcFrame.HeaderBytes + NodeEnvelopeCodec.EncodedLength(envelope);
        tail = NodeEnvelopeCodec.TailLength(envelope);
        var frame = new byte[length];
        var writer = new RpcWriter();
        writer.BeginFrame(frame);
        NodeEnvelopeCodec.Write(envelope, writer, dataInTail: true);
        Assert.Equal(length, RpcFrame.HeaderBytes + writer.EndFrame());
        RpcFrame.Seal(frame, RpcMessageType.RaftEnvelope, 0, tail: tail);
        return frame;
    }

    [Fact]
    public void BatchesInTheTailComeBackAsSentAndChecked()
    {
        var sent = BulkSample();
        byte[] frame = TailFrame(sent, out int tail);
        Assert.True(tail > 600, "the precondition: the tail holds the batches");
        Assert.Equal(RpcFrameStatus.Ok, RpcFrame.TryRead(frame, RpcFrame.DefaultMaxFrameBytes, out var read, out _));
        Assert.Equal(tail, read.TailLength);
        var received = NodeEnvelopeCodec.Read(frame.AsSpan(read.PayloadOffset, read.PayloadLength), read.TailLength);
        Assert.Equal(Describe(sent), Describe(received));
        Assert.True(Assert.Single(received.Messages).BatchesChecked);
        Assert.False(Assert.Single(NodeEnvelopeCodec.Read(Encode(sent)).Messages).BatchesChecked);
    }

    [Fact]
    public void AnyDamagedByteOfTheTailIsFoundByTheBatchesCrcs()
    {
        byte[] frame = TailFrame(BulkSample(), out int tail);
        Assert.Equal(RpcFrameStatus.Ok, RpcFrame.TryRead(frame, RpcFrame.DefaultMaxFrameBytes, out var read, out _));
        for (int at = frame.Length - tail; at < frame.Length; at++)
        {
            byte[] damaged = (byte[])frame.Clone();
            damaged[at] ^= 0x04;
            // The frame's checksum leaves the tail out, so the frame still reads; the batches' CRCs (and the offsets,
            // lengths and magic that Check looks at) do not.
            Assert.Equal(RpcFrameStatus.Ok, RpcFrame.TryRead(damaged, RpcFrame.DefaultMaxFrameBytes, out _, out _));
            var payload = damaged.AsSpan(read.PayloadOffset, read.PayloadLength).ToArray();
            bool refused = false;
            try
            {
                var received = NodeEnvelopeCodec.Read(payload, read.TailLength);
                // A flipped base offset or leader epoch is outside the CRC: the replica refuses the entry for it.
                var entries = received.Messages[0].Message.Entries!;
                refused = entries.Any(e => e.Type == EntryType.Normal && !OffsetsAndEpochsMatch(e));
            }
            catch (RpcFormatException)
            {
                refused = true;
            }
            Assert.True(refused, $"a flipped bit at byte {at} of the frame went unnoticed");
        }

        static bool OffsetsAndEpochsMatch(Entry entry)
        {
            long next = entry.Index;
            foreach (var batch in new BatchEnumerator(entry.Data.Span))
            {
                if (batch.BaseOffset != next || batch.PartitionLeaderEpoch != entry.Term)
                {
                    return false;
                }
                next = batch.LastOffset + 1;
            }
            return next == entry.LastIndex + 1;
        }
    }

    [Fact]
    public void TailBytesNoEntryClaimsAreRefused()
    {
        var sent = BulkSample();
        var writer = new RpcWriter();
        NodeEnvelopeCodec.Write(sent, writer, dataInTail: true);
        byte[] payload = [.. writer.Written, 0, 0, 0, 0];
        int tail = NodeEnvelopeCodec.TailLength(sent) + 4;
        var error = Assert.Throws<RpcFormatException>(() => NodeEnvelopeCodec.Read(payload, tail));
        Assert.Contains("belong to no entry", error.Message, StringComparison.Ordinal);
        Assert.Throws<RpcFormatException>(() => NodeEnvelopeCodec.Read(writer.Written, tail - 5));
        Assert.Throws<RpcFormatException>(() => NodeEnvelopeCodec.Read(writer.Written, writer.Written.Length + 1));
    }

    [Fact]
    public void TwentyGroupsHeartbeatsCostLessThanTwentyMessages()
    {
        var batcher = new EnvelopeBatcher(2);
        for (long group = 0; group < 20; group++)
        {
            batcher.Add(group, new Message { Type = MessageType.Heartbeat, From = 2, To = 1, Term = 3, Commit = 100, Sequence = 9 });
        }
        var flushed = new List<NodeEnvelope>();
        batcher.Flush(flushed);
        // One frame of 32 bytes a group, against a full message of at least 66 bytes a group.
        Assert.Equal(4 + 4 + 4 + 20 * 32 + 4 + 4, Encode(Assert.Single(flushed)).Length);
    }

    [Theory]
    [InlineData(11, 10, EntryType.Normal)]
    [InlineData(11, 12, EntryType.ConfigChange)]
    [InlineData(0, 0, EntryType.Normal)]
    public void AnEntryWithAnImpossibleRangeIsRefused(long index, long lastIndex, EntryType type)
    {
        var writer = new RpcWriter();
        writer.WriteInt32(2);
        writer.WriteInt32(1);
        writer.WriteInt32(0); // heartbeats
        writer.WriteInt32(0); // heartbeat answers
        writer.WriteInt32(1);
        writer.WriteInt64(1); // group
        writer.WriteByte((byte)MessageType.Append);
        foreach (long field in new long[] { 4, 10, 3, 9 }) writer.WriteInt64(field); // term, index, log term, commit
        writer.WriteByte(0);
        writer.WriteInt64(0); // hint
        writer.WriteInt64(0); // sequence
        writer.WriteInt32(1);
        writer.WriteInt64(4);
        writer.WriteInt64(index);
        writer.WriteInt64(lastIndex);
        writer.WriteByte((byte)type);
        writer.WriteBytes([1]);
        var error = Assert.Throws<RpcFormatException>(() => NodeEnvelopeCodec.Read(writer.Written.ToArray()));
        Assert.Contains("is not a valid entry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APayloadCutAnywhereIsRefused()
    {
        byte[] whole = Encode(Sample());
        for (int length = 0; length < whole.Length; length++)
        {
            Assert.Throws<RpcFormatException>(() => NodeEnvelopeCodec.Read(whole.AsSpan(0, length)));
        }
    }

    [Fact]
    public void TrailingBytesAreRefused()
    {
        byte[] whole = Encode(Sample());
        Assert.Throws<RpcFormatException>(() => NodeEnvelopeCodec.Read([.. whole, 0]));
    }

    [Fact]
    public void ACountPastThePayloadIsRefusedBeforeAllocating()
    {
        // from, to, then two billion heartbeats in 0 bytes.
        byte[] lying = [0, 0, 0, 2, 0, 0, 0, 1, 0x7F, 0xFF, 0xFF, 0xFF];
        var error = Assert.Throws<RpcFormatException>(() => NodeEnvelopeCodec.Read(lying));
        Assert.Contains("does not fit", error.Message);
    }

    [Fact]
    public void SnapshotsDoNotTravelInEnvelopes()
    {
        var batcher = new EnvelopeBatcher(2);
        batcher.Add(1, new Message { Type = MessageType.Snapshot, From = 2, To = 1, Term = 1 });
        var flushed = new List<NodeEnvelope>();
        batcher.Flush(flushed);
        Assert.Throws<NotSupportedException>(() => Encode(flushed[0]));
    }
}
