using System.Buffers.Binary;
using Eddy.Rpc;

namespace Eddy.Rpc.Tests;

/// <summary>The frame: what it carries comes back, and every way a frame can be wrong is told apart before its payload
/// is looked at.</summary>
public class RpcFrameTests
{
    private static readonly byte[] Payload = [1, 2, 3, 4, 5, 6, 7];

    [Fact]
    public void AFrameCarriesTypeCorrelationAndPayload()
    {
        byte[] frame = RpcFrame.Encode(RpcMessageType.RaftEnvelope, 42, Payload);
        Assert.Equal(RpcFrameStatus.Ok, RpcFrame.TryRead(frame, RpcFrame.DefaultMaxFrameBytes, out var read, out int consumed));
        Assert.Equal((RpcFrame.CurrentVersion, RpcMessageType.RaftEnvelope, 42, frame.Length), (read.Version, read.Type, read.Correlation, consumed));
        Assert.Equal(Payload, frame.AsSpan(read.PayloadOffset, read.PayloadLength).ToArray());
    }

    [Fact]
    public void EveryCutShortFrameIsIncomplete()
    {
        byte[] frame = RpcFrame.Encode(RpcMessageType.Hello, 1, Payload);
        for (int length = 0; length < frame.Length; length++)
        {
            Assert.Equal(RpcFrameStatus.Incomplete, RpcFrame.TryRead(frame.AsSpan(0, length), RpcFrame.DefaultMaxFrameBytes, out _, out _));
        }
    }

    [Fact]
    public void AnyFlippedBitAfterTheLengthFailsTheChecksum()
    {
        byte[] frame = RpcFrame.Encode(RpcMessageType.RaftEnvelope, 7, Payload);
        for (int at = 4; at < frame.Length; at++)
        {
            byte[] damaged = (byte[])frame.Clone();
            damaged[at] ^= 0x10;
            // A damaged tail length may claim more than the payload holds: refused for that, before the checksum.
            var expected = at is >= 16 and < 20 ? RpcFrameStatus.BadLength : RpcFrameStatus.BadChecksum;
            Assert.Equal(expected, RpcFrame.TryRead(damaged, RpcFrame.DefaultMaxFrameBytes, out _, out _));
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(11)]               // shorter than the header after the length
    [InlineData(int.MaxValue)]     // what a huge length must not do: allocate
    public void ALengthOutsideTheLimitsIsRefusedAtOnce(int length)
    {
        byte[] prefix = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(prefix, length);
        Assert.Equal(RpcFrameStatus.BadLength, RpcFrame.TryRead(prefix, RpcFrame.DefaultMaxFrameBytes, out _, out _));
    }

    [Fact]
    public void AFrameLargerThanTheLimitIsRefusedAndOneAtTheLimitIsNot()
    {
        byte[] frame = RpcFrame.Encode(RpcMessageType.RaftEnvelope, 1, new byte[1000]);
        Assert.Equal(RpcFrameStatus.Ok, RpcFrame.TryRead(frame, frame.Length, out _, out _));
        Assert.Equal(RpcFrameStatus.BadLength, RpcFrame.TryRead(frame, frame.Length - 1, out _, out _));
    }

    [Fact]
    public void AnotherVersionIsToldApartFromDamage()
    {
        byte[] frame = RpcFrame.Encode(RpcMessageType.Hello, 1, Payload, version: (short)(RpcFrame.CurrentVersion + 1));
        Assert.Equal(RpcFrameStatus.UnsupportedVersion, RpcFrame.TryRead(frame, RpcFrame.DefaultMaxFrameBytes, out var read, out _));
        Assert.Equal(RpcFrame.CurrentVersion + 1, read.Version);
    }

    [Fact]
    public void KafkaAndHttpBytesAreNotFrames()
    {
        byte[] http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray();
        Assert.Equal(RpcFrameStatus.BadLength, RpcFrame.TryRead(http, RpcFrame.DefaultMaxFrameBytes, out _, out _));
        // A Kafka ApiVersions request: a plausible length, but its client id, read as a tail, is longer than the frame.
        byte[] kafka = [0, 0, 0, 20, 0, 18, 0, 3, 0, 0, 0, 1, 0, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 0, 0, 0, 0];
        Assert.Equal(RpcFrameStatus.BadLength, RpcFrame.TryRead(kafka, RpcFrame.DefaultMaxFrameBytes, out _, out _));
        // The same with no client id: no tail, but no valid checksum.
        byte[] anonymous = [0, 0, 0, 20, 0, 18, 0, 3, 0, 0, 0, 1, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Assert.Equal(RpcFrameStatus.BadChecksum, RpcFrame.TryRead(anonymous, RpcFrame.DefaultMaxFrameBytes, out _, out _));
    }

    private static byte[] WithTail(RpcMessageType type, int tail)
    {
        byte[] frame = new byte[RpcFrame.HeaderBytes + Payload.Length];
        Payload.CopyTo(frame, RpcFrame.HeaderBytes);
        RpcFrame.Seal(frame, type, 5, tail: tail);
        return frame;
    }

    [Fact]
    public void TheChecksumLeavesOutTheTailAndNothingElse()
    {
        const int tail = 3;
        byte[] frame = WithTail(RpcMessageType.RaftEnvelope, tail);
        Assert.Equal(RpcFrameStatus.Ok, RpcFrame.TryRead(frame, RpcFrame.DefaultMaxFrameBytes, out var read, out _));
        Assert.Equal((Payload.Length, tail), (read.PayloadLength, read.TailLength));
        for (int at = 4; at < frame.Length; at++)
        {
            byte[] damaged = (byte[])frame.Clone();
            damaged[at] ^= 0x10;
            var status = RpcFrame.TryRead(damaged, RpcFrame.DefaultMaxFrameBytes, out _, out _);
            if (at is >= 10 and < 20 and not (>= 12 and < 16))
            {
                // The type and the tail's length: damaged, a tail is out of bounds (or on a type without one), or the
                // checksum's end moves.
                Assert.True(status is RpcFrameStatus.BadChecksum or RpcFrameStatus.BadLength, $"byte {at}: {status}");
            }
            else
            {
                Assert.Equal(at < frame.Length - tail ? RpcFrameStatus.BadChecksum : RpcFrameStatus.Ok, status);
            }
        }
    }

    [Fact]
    public void OnlyEnvelopesHaveTailsAndNoTailIsLongerThanItsPayload()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => WithTail(RpcMessageType.Hello, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => WithTail(RpcMessageType.RaftEnvelope, Payload.Length + 1));
        foreach (var (type, tail) in new[] { (RpcMessageType.Request, 2), (RpcMessageType.RaftEnvelope, Payload.Length + 1), (RpcMessageType.RaftEnvelope, -1) })
        {
            byte[] frame = WithTail(RpcMessageType.RaftEnvelope, 0);
            BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(10), (short)type);
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(16), tail);
            Assert.Equal(RpcFrameStatus.BadLength, RpcFrame.TryRead(frame, RpcFrame.DefaultMaxFrameBytes, out _, out _));
        }
    }

    [Fact]
    public void AnOlderNodesFrameIsToldByItsVersionNotAsDamage()
    {
        // Version 2 had a 16-byte header and a checksum over all of its payload.
        byte[] frame = new byte[16 + Payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - 4);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(8), 2);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(10), (short)RpcMessageType.Hello);
        Payload.CopyTo(frame, 16);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), Eddy.Hashing.Crc32C.Compute(frame.AsSpan(8)));
        Assert.Equal(RpcFrameStatus.UnsupportedVersion, RpcFrame.TryRead(frame, RpcFrame.DefaultMaxFrameBytes, out var read, out _));
        Assert.Equal(2, read.Version);
    }
}
