using System.Buffers.Binary;
using System.Text;
using Eddy.Kafka.Protocol;
using Eddy.Hashing;

namespace Eddy.Protocol.Tests;

public class RecordBatchTests
{
    public static TheoryData<CompressionType> Codecs() =>
        [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];

    private static byte[] Build(CompressionType codec, int count, int valueSize = 100)
    {
        using var b = new RecordBatchBuilder(codec) { ProducerId = 42, ProducerEpoch = 3, BaseSequence = 7, BaseOffset = 1000 };
        for (int i = 0; i < count; i++)
        {
            var value = Encoding.UTF8.GetBytes(new string((char)('a' + i % 26), valueSize));
            KeyValuePair<string, byte[]?>[] headers = i % 3 == 0 ? [new("h1", [1, 2]), new("h2", null)] : [];
            b.Add(1_700_000_000_000 + i, Encoding.UTF8.GetBytes("k" + i), value, keyIsNull: i == 1, valueIsNull: i == 2, headers);
        }
        return b.ToArray();
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void BuiltBatchParsesValidatesAndIterates(CompressionType codec)
    {
        byte[] bytes = Build(codec, 50, 300);
        var batch = RecordBatch.Parse(bytes);
        batch.Validate();
        Assert.Equal(bytes.Length, batch.Bytes.Length);
        Assert.Equal(1000, batch.BaseOffset);
        Assert.Equal(codec, batch.Compression);
        Assert.Equal(50, batch.RecordCount);
        Assert.Equal(49, batch.LastOffsetDelta);
        Assert.Equal(42, batch.ProducerId);
        Assert.Equal(3, batch.ProducerEpoch);
        Assert.Equal(7, batch.BaseSequence);
        Assert.Equal(1_700_000_000_049, batch.MaxTimestamp);
        if (codec != CompressionType.None) Assert.True(batch.Payload.Length < 50 * 300 / 4, "compressed payload should be small");

        using var records = batch.OpenRecords();
        int i = 0;
        foreach (var r in records)
        {
            Assert.Equal(1000 + i, r.Offset);
            Assert.Equal(1_700_000_000_000 + i, r.Timestamp);
            Assert.Equal(i != 1, r.HasKey);
            if (i != 1) Assert.Equal("k" + i, Encoding.UTF8.GetString(r.Key));
            Assert.Equal(i != 2, r.HasValue);
            if (i != 2) Assert.Equal(300, r.Value.Length);
            Assert.Equal(i % 3 == 0 ? 2 : 0, r.HeaderCount);
            int h = 0;
            foreach (var header in r.Headers)
            {
                Assert.Equal(h == 0 ? "h1" : "h2", Encoding.UTF8.GetString(header.Key));
                Assert.Equal(h == 0, header.HasValue);
                h++;
            }
            i++;
        }
        Assert.Equal(50, i);
    }

    [Fact]
    public void FlippingAnyCoveredByteBreaksTheCrcAndFramingBytesBreakParsing()
    {
        byte[] bytes = Build(CompressionType.None, 5);
        for (int i = 0; i < bytes.Length; i++)
        {
            for (int bit = 0; bit < 8; bit += 3)
            {
                var copy = (byte[])bytes.Clone();
                copy[i] ^= (byte)(1 << bit);
                bool ok = RecordBatch.TryParse(copy, out var batch, out _) && batch.Bytes.Length == bytes.Length && batch.IsCrcValid;
                // baseOffset and partitionLeaderEpoch are outside the CRC by design: the leader rewrites them.
                bool uncovered = i < RecordBatch.LengthOffset || (i >= RecordBatch.PartitionLeaderEpochOffset && i < RecordBatch.MagicOffset);
                Assert.True(ok == uncovered, $"byte {i} bit {bit}: detected={!ok}");
            }
        }
    }

    [Fact]
    public void Crc32CMatchesKnownVectorsAndTheBytewiseDefinition()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0u, Crc32C.Compute([]));
        var rng = new Random(5);
        foreach (int len in new[] { 1, 7, 8, 255, 767, 768, 769, 1536, 5000, 65537 })
        {
            var data = new byte[len];
            rng.NextBytes(data);
            Assert.Equal(Reference(data), Crc32C.Compute(data));
        }

        static uint Reference(ReadOnlySpan<byte> data)
        {
            uint crc = ~0u;
            foreach (byte b in data)
            {
                crc ^= b;
                for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
            return ~crc;
        }
    }

    [Fact]
    public void ControlBatchCarriesTheMarker()
    {
        var batch = RecordBatch.Parse(RecordBatchBuilder.ControlBatch(ControlRecordType.Commit, 5, 99, 1, 1234));
        batch.Validate();
        Assert.True(batch.IsControl);
        Assert.True(batch.IsTransactional);
        using var records = batch.OpenRecords();
        int n = 0;
        foreach (var r in records)
        {
            Assert.Equal(ControlRecordType.Commit, RecordBatchBuilder.ReadControlType(r.Key));
            Assert.Equal(5, BinaryPrimitives.ReadInt32BigEndian(r.Value[2..]));
            n++;
        }
        Assert.Equal(1, n);
    }

    [Theory]
    [MemberData(nameof(Codecs))]
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

    [Fact]
    public void LegacyFormatsAreRefusedWithKafka4Errors()
    {
        Assert.Equal(35, LegacyMessageFormat.CheckProduceVersion(2));
        Assert.Equal(0, LegacyMessageFormat.CheckProduceVersion(3));
        Assert.Equal(35, LegacyMessageFormat.CheckFetchVersion(3));
        byte[] bytes = Build(CompressionType.None, 1);
        Assert.Equal(0, LegacyMessageFormat.CheckProduceRecords(bytes));
        bytes[RecordBatch.MagicOffset] = 1;
        Assert.Equal(87, LegacyMessageFormat.CheckProduceRecords(bytes));
        Assert.Throws<KafkaProtocolException>(() => RecordBatch.Parse(bytes));
    }

    [Fact]
    public void EnumerateStopsAtAPartialTrailingBatch()
    {
        byte[] one = Build(CompressionType.None, 3), two = Build(CompressionType.Lz4, 4);
        byte[] all = [.. one, .. two, .. two.AsSpan(0, 30)];
        int n = 0;
        foreach (var b in RecordBatch.Enumerate(all)) { b.Validate(); n++; }
        Assert.Equal(2, n);
    }
}
