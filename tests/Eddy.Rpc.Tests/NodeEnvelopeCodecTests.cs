using Eddy.Raft;
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
