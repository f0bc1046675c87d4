using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Protocol.Tests;

/// <summary>Bad bytes must always end in KafkaProtocolException: never another exception, a large allocation or a hang.</summary>
public class MalformedInputTests
{
    private static byte[] Data(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Data", name + ".bin"));

    private static void AssertRejected(Action decode)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Xunit.Record.Exception(decode);
        Assert.NotNull(ex);
        Assert.IsType<KafkaProtocolException>(ex);
        // Failing must stay cheap: a lying length never gets to allocate what it claims.
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 256 * 1024, "rejection allocated too much");
    }

    [Theory]
    [MemberData(nameof(CapturedFrameTests.Files), MemberType = typeof(CapturedFrameTests))]
    public void CapturedFrameTruncatedAtEveryByteIsRejected(string name)
    {
        byte[] frame = Data(name);
        for (int n = 0; n < frame.Length; n++)
        {
            var cut = frame.AsMemory(0, n);
            AssertRejected(() => KafkaFrames.DecodeRequest(cut));
        }
    }

    [Fact]
    public void EveryMessageTruncatedAtEveryByteIsRejected()
    {
        foreach (var name in RoundTripTests.MessageNames())
        {
            var proto = (IKafkaMessage)Activator.CreateInstance(typeof(KafkaApis).Assembly.GetType("Eddy.Kafka.Protocol.Messages." + name)!)!;
            foreach (short v in new[] { proto.LowestSupportedVersion, proto.HighestSupportedVersion })
            {
                var m = (IKafkaMessage)Activator.CreateInstance(proto.GetType())!;
                RandomMessages.Fill(m, v, new Random(v), v >= proto.FlexibleFrom);
                using var w = new KafkaWriter();
                m.Write(w, v);
                byte[] bytes = w.ToArray();
                for (int n = 0; n < bytes.Length; n++)
                {
                    var cut = bytes.AsMemory(0, n);
                    var ex = Xunit.Record.Exception(() =>
                    {
                        var r = new KafkaReader(cut);
                        ((IKafkaMessage)Activator.CreateInstance(proto.GetType())!).Read(ref r, v);
                        r.ExpectEnd(name);
                    });
                    Assert.True(ex is KafkaProtocolException, $"{name} v{v} cut at {n}: {ex?.GetType().Name ?? "accepted"}");
                }
            }
        }
    }

    [Fact]
    public void NegativeAndHugeLengthsAreRejectedBeforeAllocating()
    {
        // Metadata v1 request body: topics array (int32 count), each a non-compact string.
        AssertRejected(() => Decode<MetadataRequest>([0x7F, 0xFF, 0xFF, 0xFF], 1));           // 2^31-1 topics, no bytes
        AssertRejected(() => Decode<MetadataRequest>([0xFF, 0xFF, 0xFF, 0xFE], 1));           // count -2
        AssertRejected(() => Decode<MetadataRequest>([0xFF, 0xFF, 0xFF, 0xFF], 0));           // null where v0 forbids it
        AssertRejected(() => Decode<MetadataRequest>([0, 0, 0, 1, 0x7F, 0xFF, 1, 2], 1));     // string of 32767 bytes, 2 present
        AssertRejected(() => Decode<MetadataRequest>([0, 0, 0, 1, 0xFF, 0xFE], 1));           // string length -2
        // SaslAuthenticate v0: bytes with int32 length.
        AssertRejected(() => Decode<SaslAuthenticateRequest>([0x7F, 0xFF, 0xFF, 0xFF, 0], 0));
        AssertRejected(() => Decode<SaslAuthenticateRequest>([0x80, 0, 0, 0], 0));
        // Produce v3: records with a huge length.
        AssertRejected(() => Decode<ProduceRequest>([0xFF, 0xFF, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, (byte)'t', 0, 0, 0, 1, 0, 0, 0, 0, 0x7F, 0, 0, 0], 3));
    }

    [Fact]
    public void CompactLengthsOffByOneAreRejected()
    {
        // Metadata v9 (flexible): compact array of topics; each topic has TopicId (v10+) and a compact nullable name.
        AssertRejected(() => Decode<MetadataRequest>([0x03, 0x02], 9));                // says 2 topics, has none
        AssertRejected(() => Decode<MetadataRequest>([0x02, 0x05, (byte)'a', (byte)'b', (byte)'c', 0, 0, 0, 0], 9)); // name says 4 bytes, 3 then tags
        AssertRejected(() => Decode<ApiVersionsRequest>([0x00, 0x01, 0x00], 3));       // ClientSoftwareName compact null: not nullable
        AssertRejected(() => Decode<ApiVersionsRequest>([0x02, (byte)'a', 0x02], 3));   // second string cut short
        // Tagged field that declares more bytes than its value uses.
        AssertRejected(() => Decode<ApiVersionsRequest>([0x02, (byte)'a', 0x02, (byte)'b', 0x01, 0x00, 0x05, 0x00], 3));
        // Tag count larger than the bytes left.
        AssertRejected(() => Decode<ApiVersionsRequest>([0x01, 0x01, 0x7F], 3));
    }

    [Fact]
    public void KnownTaggedFieldWithAWrongSizeIsRejected()
    {
        using var w = new KafkaWriter();
        new FetchRequest { ClusterId = "ab" }.Write(w, 12);
        byte[] good = w.ToArray();
        // The body ends with the tag buffer: count 1, tag 0, size 3, then compact string "ab".
        Assert.Equal(new byte[] { 1, 0, 3, 3, (byte)'a', (byte)'b' }, good[^6..]);
        byte[] bad = [.. good[..^4], 4, 3, (byte)'a', (byte)'b', 0];
        var ex = Assert.Throws<KafkaProtocolException>(() => Decode<FetchRequest>(bad, 12));
        Assert.Contains("tagged field", ex.Message);
        Assert.Equal(bad.Length - 1, ex.Offset);
    }

    [Fact]
    public void OverlongVarintsAreRejected()
    {
        AssertRejected(() => { var r = new KafkaReader(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }); r.ReadUnsignedVarInt(); });
        AssertRejected(() => { var r = new KafkaReader(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x1F }); r.ReadUnsignedVarInt(); });
        // Compact array length as a 5-byte varint: far above what the frame holds.
        AssertRejected(() => Decode<MetadataRequest>([0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00], 9));
    }

    [Fact]
    public void RandomlyCorruptedFramesFailOnlyWithTheProtocolException()
    {
        var rng = new Random(11);
        var frames = CapturedFrameTests.FileNames().Select(Data).ToArray();
        for (int i = 0; i < 20_000; i++)
        {
            var frame = (byte[])frames[i % frames.Length].Clone();
            for (int k = rng.Next(1, 4); k > 0; k--) frame[rng.Next(frame.Length)] = (byte)rng.Next(256);
            var ex = Xunit.Record.Exception(() => KafkaFrames.DecodeRequest(frame));
            Assert.True(ex is null or KafkaProtocolException, $"iteration {i}: {ex}");
        }
    }

    [Fact]
    public void OversizedFramePrefixIsRejected()
    {
        var seq = new System.Buffers.ReadOnlySequence<byte>(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF, 1, 2 });
        Assert.Throws<KafkaProtocolException>(() => KafkaFrames.TryReadFrame(ref seq, out _));
        var neg = new System.Buffers.ReadOnlySequence<byte>(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF });
        Assert.Throws<KafkaProtocolException>(() => KafkaFrames.TryReadFrame(ref neg, out _));
        var partial = new System.Buffers.ReadOnlySequence<byte>(new byte[] { 0, 0, 0, 9, 1, 2 });
        Assert.False(KafkaFrames.TryReadFrame(ref partial, out _));
    }

    private static void Decode<T>(byte[] body, short version) where T : IKafkaMessage, new()
    {
        var r = new KafkaReader(body);
        new T().Read(ref r, version);
        r.ExpectEnd(typeof(T).Name);
    }
}
