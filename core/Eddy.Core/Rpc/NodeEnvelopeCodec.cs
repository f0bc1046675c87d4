using System.Buffers;
using Eddy.Raft;
using Eddy.Records;

namespace Eddy.Rpc;

/// <summary>
/// A <see cref="NodeEnvelope"/> on the wire: one frame for everything one node has for another in one flush, so an
/// idle cluster's heartbeats cost one frame per node pair per interval however many groups the two share.
/// <code>
/// int32 from, int32 to
/// int32 n, n x (int64 group, int64 term, int64 commit, int64 sequence)       heartbeats
/// int32 n, n x (the same)                                                    heartbeat responses
/// int32 n, n x message: int64 group, byte type, int64 term, int64 index, int64 log term, int64 commit,
///              byte flags (1 reject, 2 force), int64 reject hint, int64 sequence,
///              int32 m, m x entry (int64 term, int64 index, int64 last index, byte type, int32 length, data)
/// </code>
/// A frame with a tail (<see cref="RpcFrame"/>; partitions' appends on the bulk connection) carries its normal
/// entries' data there, one after another, instead of after each entry's length; membership changes stay in place.
/// The tail holds only record batches, and the reader checks every batch's CRC as it copies it out, so the frame's
/// checksum need not cover them.
/// Snapshot messages do not travel in envelopes, so an image does not hold up the heartbeats: each is a frame of its
/// own (<see cref="RpcMessageType.RaftSnapshot"/>), read back as an envelope holding that one message:
/// <code>
/// int32 from, int32 to, int64 group, int64 term, int64 index, int64 snapshot term,
/// int32 n, n x int32 voter, int32 n, n x int32 learner, int32 length, data
/// </code>
/// The whole image travels in one frame, within the frame limit: the controller's state, the one group with
/// snapshots today, is far smaller. Streaming in chunks comes with partitions' snapshots.
/// </summary>
public static class NodeEnvelopeCodec
{
    private const int BeatBytes = 32;
    private const int MessageMinBytes = 8 + 1 + 8 * 4 + 1 + 8 * 2 + 4;
    private const int EntryMinBytes = 8 + 8 + 8 + 1 + 4;
    private const byte RejectFlag = 1, ForceFlag = 2;

    /// <summary>How many bytes <see cref="Write"/> writes for <paramref name="envelope"/>: a frame for it is rented at
    /// its size, and the envelope written straight into it.</summary>
    public static int EncodedLength(NodeEnvelope envelope)
    {
        long length = 4 + 4 + 4 + (long)BeatBytes * envelope.Heartbeats.Count + 4 + (long)BeatBytes * envelope.HeartbeatResponses.Count + 4;
        foreach (var (_, message) in envelope.Messages)
        {
            length += MessageMinBytes;
            foreach (var entry in message.Entries ?? [])
            {
                length += EntryMinBytes + entry.Data.Length;
            }
        }
        return checked((int)length);
    }

    /// <summary>The bytes of <paramref name="envelope"/>'s normal entries' data: what <see cref="Write"/> puts in the
    /// frame's tail when asked to.</summary>
    public static int TailLength(NodeEnvelope envelope)
    {
        long length = 0;
        foreach (var (_, message) in envelope.Messages)
        {
            foreach (var entry in message.Entries ?? [])
            {
                length += entry.Type == EntryType.Normal ? entry.Data.Length : 0;
            }
        }
        return checked((int)length);
    }

    /// <summary>Writes <paramref name="envelope"/>; with <paramref name="dataInTail"/>, its normal entries' data (which
    /// must be record batches) go last, for a frame whose tail is <see cref="TailLength"/> bytes.</summary>
    public static void Write(NodeEnvelope envelope, RpcWriter writer, bool dataInTail = false)
    {
        writer.WriteInt32(envelope.From);
        writer.WriteInt32(envelope.To);
        WriteBeats(envelope.Heartbeats, writer);
        WriteBeats(envelope.HeartbeatResponses, writer);
        writer.WriteInt32(envelope.Messages.Count);
        foreach (var (group, message) in envelope.Messages)
        {
            if (message.Type == MessageType.Snapshot)
            {
                throw new NotSupportedException($"group {group}: snapshot messages are streamed on their own, not in an envelope");
            }
            writer.WriteInt64(group);
            writer.WriteByte((byte)message.Type);
            writer.WriteInt64(message.Term);
            writer.WriteInt64(message.Index);
            writer.WriteInt64(message.LogTerm);
            writer.WriteInt64(message.Commit);
            writer.WriteByte((byte)((message.Reject ? RejectFlag : 0) | (message.Force ? ForceFlag : 0)));
            writer.WriteInt64(message.RejectHint);
            writer.WriteInt64(message.Sequence);
            var entries = message.Entries ?? [];
            writer.WriteInt32(entries.Length);
            foreach (var entry in entries)
            {
                writer.WriteInt64(entry.Term);
                writer.WriteInt64(entry.Index);
                writer.WriteInt64(entry.LastIndex);
                writer.WriteByte((byte)entry.Type);
                if (dataInTail && entry.Type == EntryType.Normal)
                {
                    writer.WriteInt32(entry.Data.Length);
                }
                else
                {
                    writer.WriteBytes(entry.Data.Span);
                }
            }
        }
        if (dataInTail)
        {
            foreach (var (_, message) in envelope.Messages)
            {
                foreach (var entry in message.Entries ?? [])
                {
                    if (entry.Type == EntryType.Normal)
                    {
                        writer.WriteUnprefixed(entry.Data.Span);
                    }
                }
            }
        }
    }

    /// <summary>Decodes an envelope whose frame ends in a tail of <paramref name="tailLength"/> bytes; throws
    /// <see cref="RpcFormatException"/> on anything malformed (a batch in the tail whose CRC does not match included),
    /// before allocating for counts the payload cannot hold.</summary>
    public static NodeEnvelope Read(ReadOnlySpan<byte> payload, int tailLength = 0)
    {
        if (tailLength < 0 || tailLength > payload.Length)
        {
            throw new RpcFormatException($"a tail of {tailLength} bytes in a payload of {payload.Length}");
        }
        var tail = new TailReader(payload[^tailLength..]);
        var reader = new RpcReader(payload[..^tailLength]);
        var envelope = new NodeEnvelope();
        envelope.Reset(reader.ReadInt32(), reader.ReadInt32());
        ReadBeats(ref reader, envelope.Heartbeats);
        ReadBeats(ref reader, envelope.HeartbeatResponses);
        int messages = reader.ReadCount(MessageMinBytes);
        for (int i = 0; i < messages; i++)
        {
            long group = reader.ReadInt64();
            byte type = reader.ReadByte();
            if (type > (byte)MessageType.TimeoutNow || type == (byte)MessageType.Snapshot)
            {
                throw new RpcFormatException($"group {group}: message type {type} cannot travel in an envelope");
            }
            var message = new Message
            {
                Type = (MessageType)type,
                From = envelope.From,
                To = envelope.To,
                Term = reader.ReadInt64(),
                Index = reader.ReadInt64(),
                LogTerm = reader.ReadInt64(),
                Commit = reader.ReadInt64(),
            };
            byte flags = reader.ReadByte();
            message.Reject = (flags & RejectFlag) != 0;
            message.Force = (flags & ForceFlag) != 0;
            message.RejectHint = reader.ReadInt64();
            message.Sequence = reader.ReadInt64();
            int entries = reader.ReadCount(EntryMinBytes);
            byte[]? lease = null;
            if (entries > 0)
            {
                // The entries' bytes go into one pooled array (at most what is left of the payload), not an array each:
                // appends carry megabytes of batches, and fresh large arrays at that rate cost page faults and memory.
                lease = ArrayPool<byte>.Shared.Rent(reader.Remaining + tail.Remaining);
                int used = 0;
                message.Entries = new Entry[entries];
                for (int e = 0; e < entries; e++)
                {
                    message.Entries[e] = ReadEntry(ref reader, ref tail, lease, ref used);
                }
            }
            envelope.Messages.Add(new GroupMessage(group, message) { Lease = lease, BatchesChecked = tailLength > 0 });
        }
        reader.End();
        if (tail.Remaining != 0)
        {
            throw new RpcFormatException($"{tail.Remaining} bytes of the tail belong to no entry");
        }
        return envelope;
    }

    private static Entry ReadEntry(ref RpcReader reader, ref TailReader tail, byte[] lease, ref int used)
    {
        long term = reader.ReadInt64();
        long index = reader.ReadInt64();
        long lastIndex = reader.ReadInt64();
        byte type = reader.ReadByte();
        if (term <= 0 || index <= 0 || lastIndex < index || type > (byte)EntryType.ConfigChange
            || (type == (byte)EntryType.ConfigChange && lastIndex != index))
        {
            throw new RpcFormatException($"entry {index}-{lastIndex}@{term} of type {type} is not a valid entry");
        }
        int length;
        if (tail.IsPresent && type == (byte)EntryType.Normal)
        {
            // Copied and checked in one pass: these bytes are in no checksum but the batches' own.
            var data = tail.Take(reader.ReadInt32());
            var check = RecordBatch.CopyChecked(data, lease.AsSpan(used));
            if (check != BatchCheck.Ok)
            {
                throw new RpcFormatException($"entry {index}-{lastIndex}@{term} holds a bad batch ({check})");
            }
            length = data.Length;
        }
        else
        {
            var data = reader.ReadSpan();
            data.CopyTo(lease.AsSpan(used));
            length = data.Length;
        }
        var entry = new Entry(term, index, lastIndex, (EntryType)type, lease.AsMemory(used, length));
        used += length;
        return entry;
    }

    /// <summary>The tail of a frame, taken from the front as the entries ask for it.</summary>
    private ref struct TailReader(ReadOnlySpan<byte> tail)
    {
        private readonly ReadOnlySpan<byte> _tail = tail;
        private int _at;

        public readonly bool IsPresent => _tail.Length > 0;

        public readonly int Remaining => _tail.Length - _at;

        public ReadOnlySpan<byte> Take(int length)
        {
            if (length < 0 || length > Remaining)
            {
                throw new RpcFormatException($"{length} bytes of batches announced, {Remaining} left in the tail");
            }
            var taken = _tail.Slice(_at, length);
            _at += length;
            return taken;
        }
    }

    private static void WriteBeats(List<CoalescedBeat> beats, RpcWriter writer)
    {
        writer.WriteInt32(beats.Count);
        foreach (var beat in beats)
        {
            writer.WriteInt64(beat.Group);
            writer.WriteInt64(beat.Term);
            writer.WriteInt64(beat.Commit);
            writer.WriteInt64(beat.Sequence);
        }
    }

    private static void ReadBeats(ref RpcReader reader, List<CoalescedBeat> beats)
    {
        int count = reader.ReadCount(BeatBytes);
        for (int i = 0; i < count; i++)
        {
            beats.Add(new CoalescedBeat(reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64()));
        }
    }

    public static void WriteSnapshot(long group, in Message message, RpcWriter writer)
    {
        var image = message.Snapshot ?? throw new ArgumentException("a snapshot message without an image", nameof(message));
        writer.WriteInt32(message.From);
        writer.WriteInt32(message.To);
        writer.WriteInt64(group);
        writer.WriteInt64(message.Term);
        WriteImage(image, writer);
    }

    public static NodeEnvelope ReadSnapshot(ReadOnlySpan<byte> payload)
    {
        var reader = new RpcReader(payload);
        var envelope = new NodeEnvelope();
        envelope.Reset(reader.ReadInt32(), reader.ReadInt32());
        long group = reader.ReadInt64();
        long term = reader.ReadInt64();
        if (term <= 0)
        {
            throw new RpcFormatException($"group {group}: a snapshot sent in term {term}");
        }
        var image = ReadImage(ref reader);
        reader.End();
        envelope.Messages.Add(new GroupMessage(group, new Message
        {
            Type = MessageType.Snapshot, From = envelope.From, To = envelope.To, Term = term, Snapshot = image,
        }));
        return envelope;
    }

    /// <summary>A snapshot image: int64 index, int64 term, voters, learners (int32 count and ids each), then the data.
    /// The same bytes travel in a snapshot frame and rest in a store.</summary>
    public static void WriteImage(SnapshotImage image, RpcWriter writer)
    {
        writer.WriteInt64(image.Index);
        writer.WriteInt64(image.Term);
        writer.WriteInt32s(image.Membership.Voters);
        writer.WriteInt32s(image.Membership.Learners);
        writer.WriteBytes(image.Data);
    }

    /// <summary>Reads what <see cref="WriteImage"/> wrote; throws <see cref="RpcFormatException"/> for an image that is not
    /// a valid one (ids, counts, a membership without voters) before anything is built from it.</summary>
    public static SnapshotImage ReadImage(ref RpcReader reader)
    {
        long index = reader.ReadInt64();
        long term = reader.ReadInt64();
        var voters = reader.ReadInt32s(RaftOptions.MaxMembers);
        var learners = reader.ReadInt32s(RaftOptions.MaxMembers);
        var data = reader.ReadBytes();
        if (index <= 0 || term <= 0 || voters.Length == 0 || voters.Length + learners.Length > RaftOptions.MaxMembers
            || voters.Concat(learners).Any(id => id <= 0) || voters.Intersect(learners).Any())
        {
            throw new RpcFormatException($"snapshot {index}@{term} with voters [{string.Join(',', voters)}] and learners [{string.Join(',', learners)}] is not valid");
        }
        return new SnapshotImage(index, term, new Membership(voters, learners), data);
    }
}
