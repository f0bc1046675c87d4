using System.Buffers.Binary;
using System.Text;
using Eddy.Kafka.Protocol;
using Eddy.Records;

namespace Eddy.Protocol.Tests;

/// <summary>The codecs of compressed record payloads: bounded decompression and the framings clients write.</summary>
public class CompressionTests
{
    [Theory]
    [MemberData(nameof(RecordBatchTests.Codecs), MemberType = typeof(RecordBatchTests))]
    public void DecompressionStopsAtTheConfiguredMaximum(CompressionType codec)
    {
        if (codec == CompressionType.None) return;
        using var w = new KafkaWriter();
        Compressor.Compress(codec, new byte[1 << 20], w); // 1 MiB of zeros compresses to almost nothing
        Assert.True(w.Length < 64 * 1024);
        var ex = Assert.Throws<KafkaProtocolException>(() => Compressor.Decompress(codec, w.WrittenSpan, 100_000));
        Assert.Equal(KafkaProtocolException.CorruptMessage, ex.ErrorCode);
        var (buf, len) = Compressor.Decompress(codec, w.WrittenSpan, 1 << 20);
        Assert.Equal(1 << 20, len);
        System.Buffers.ArrayPool<byte>.Shared.Return(buf);
    }

    [Fact]
    public void XerialFramedSnappyIsAccepted()
    {
        byte[] plain = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("xerial snappy ", 500)));
        byte[] a = Snappier.Snappy.CompressToArray(plain.AsSpan(0, 3000)), b = Snappier.Snappy.CompressToArray(plain.AsSpan(3000));
        using var w = new KafkaWriter();
        w.WriteRaw([0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1]);
        w.WriteInt32(a.Length); w.WriteRaw(a);
        w.WriteInt32(b.Length); w.WriteRaw(b);
        var (buf, len) = Compressor.Decompress(CompressionType.Snappy, w.WrittenSpan, 1 << 20);
        Assert.Equal(plain, buf.AsSpan(0, len).ToArray());
        System.Buffers.ArrayPool<byte>.Shared.Return(buf);
    }

    [Fact]
    public void Lz4FrameWithLinkedBlocksAndChecksumsDecodes()
    {
        // Hand-made frame: FLG = version 01, linked blocks, block and content checksums; 64 KiB blocks.
        byte[] first = Encoding.ASCII.GetBytes("0123456789abcdefghijklmnopqrst");
        // Block 2 is one LZ4 sequence copying 20 bytes from 30 back (into block 1), then 5 literals.
        byte[] second = [0x0F, 30, 0, 1, 0x50, (byte)'V', (byte)'W', (byte)'X', (byte)'Y', (byte)'Z'];
        byte[] expected = [.. first, .. first.AsSpan(0, 20), .. "VWXYZ"u8];
        using var w = new KafkaWriter();
        byte[] descriptor = [0x54, 0x40];
        w.WriteRaw([0x04, 0x22, 0x4D, 0x18, .. descriptor, (byte)(System.IO.Hashing.XxHash32.HashToUInt32(descriptor) >> 8)]);
        void Block(byte[] data, bool stored)
        {
            var le = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(le, (uint)data.Length | (stored ? 0x80000000u : 0));
            w.WriteRaw(le);
            w.WriteRaw(data);
            BinaryPrimitives.WriteUInt32LittleEndian(le, System.IO.Hashing.XxHash32.HashToUInt32(data));
            w.WriteRaw(le);
        }
        Block(first, stored: true);
        Block(second, stored: false);
        w.WriteRaw([0, 0, 0, 0]);
        var sum = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(sum, System.IO.Hashing.XxHash32.HashToUInt32(expected));
        w.WriteRaw(sum);

        var (buf, len) = Compressor.Decompress(CompressionType.Lz4, w.WrittenSpan, 1 << 20);
        Assert.Equal(expected, buf.AsSpan(0, len).ToArray());
        System.Buffers.ArrayPool<byte>.Shared.Return(buf);

        byte[] damaged = w.ToArray();
        damaged[^1] ^= 1; // content checksum
        Assert.Throws<KafkaProtocolException>(() => Compressor.Decompress(CompressionType.Lz4, damaged, 1 << 20));
    }
}
