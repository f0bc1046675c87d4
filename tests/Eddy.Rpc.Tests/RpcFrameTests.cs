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
            Assert.Equal(RpcFrameStatus.BadChecksum, RpcFrame.TryRead(damaged, RpcFrame.DefaultMaxFrameBytes, out _, out _));
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
        // A Kafka ApiVersions request: a plausible length, but no valid checksum.
        byte[] kafka = [0, 0, 0, 20, 0, 18, 0, 3, 0, 0, 0, 1, 0, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 0, 0, 0, 0];
        Assert.Equal(RpcFrameStatus.BadChecksum, RpcFrame.TryRead(kafka, RpcFrame.DefaultMaxFrameBytes, out _, out _));
    }
}
