using System.Buffers.Binary;
using System.Text;
using Eddy.Hashing;
using Eddy.Kafka.Protocol;
using Eddy.Records;

namespace Eddy.Protocol.Tests;

/// <summary>The record batch v2 codec (Eddy.Records) that storage and the Kafka layer share: building, checking,
/// enumerating and reading batches, plain and compressed, and what it does with bad bytes.</summary>
public class RecordBatchTests
{
    public static TheoryData<CompressionType> Codecs() =>
        [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];

    private static byte[] Build(CompressionType codec, int count, int valueSize = 100)
    {
        var b = new RecordBatchBuilder { ProducerId = 42, ProducerEpoch = 3, BaseSequence = 7, BaseOffset = 1000 };
        for (int i = 0; i < count; i++)
        {
            var value = Encoding.UTF8.GetBytes(new string((char)('a' + i % 26), valueSize));
            KeyValuePair<string, byte[]?>[] headers = i % 3 == 0 ? [new("h1", [1, 2]), new("h2", null)] : [];
            b.Add(1_700_000_000_000 + i, Encoding.UTF8.GetBytes("k" + i), value, keyIsNull: i == 1, valueIsNull: i == 2, headers);
        }
        var plain = b.Finish().Span;
        return codec == CompressionType.None ? plain.ToArray() : Compressor.CompressBatch(plain, codec);
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void BuiltBatchChecksAndReadsBackEveryFieldRecordAndHeader(CompressionType codec)
    {
        byte[] bytes = Build(codec, 50, 300);
        Assert.Equal(BatchCheck.Ok, RecordBatch.Check(bytes, verifyCrc: true, out int size));
        Assert.Equal(bytes.Length, size);
        var batch = new RecordBatch(bytes);
        Assert.Equal(1000, batch.BaseOffset);
        Assert.Equal(codec, batch.Compression);
        Assert.Equal(50, batch.RecordCount);
        Assert.Equal(49, batch.LastOffsetDelta);
        Assert.Equal(42, batch.ProducerId);
        Assert.Equal(3, batch.ProducerEpoch);
        Assert.Equal(7, batch.BaseSequence);
        Assert.Equal(1_700_000_000_000, batch.BaseTimestamp);
        Assert.Equal(1_700_000_000_049, batch.MaxTimestamp);
        if (codec != CompressionType.None) Assert.True(batch.Payload.Length < 50 * 300 / 4, "compressed payload should be small");

        using var records = RecordsPayload.Open(batch);
        var reader = records.ReadRecords();
        int i = 0;
        while (reader.TryNext(out var r))
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
            Assert.Equal(r.HeaderCount, h);
            i++;
        }
        Assert.False(reader.Malformed);
        Assert.Equal(50, i);
    }

    [Fact]
    public void FlippingAnyCoveredByteFailsTheCheck()
    {
        byte[] bytes = Build(CompressionType.None, 5);
        for (int i = 0; i < bytes.Length; i++)
        {
            for (int bit = 0; bit < 8; bit += 3)
            {
                var copy = (byte[])bytes.Clone();
                copy[i] ^= (byte)(1 << bit);
                bool ok = RecordBatch.Check(copy, verifyCrc: true, out int size) == BatchCheck.Ok && size == bytes.Length;
                // baseOffset and partitionLeaderEpoch are outside the CRC by design: the leader rewrites them.
                bool uncovered = i < RecordBatch.LengthAt || (i >= RecordBatch.LeaderEpochAt && i < RecordBatch.MagicAt);
                Assert.True(ok == uncovered, $"byte {i} bit {bit}: detected={!ok}");
            }
        }
    }

    [Fact]
    public void CheckNamesWhatIsWrong()
    {
        byte[] good = Build(CompressionType.None, 2);
        Assert.Equal(BatchCheck.Incomplete, RecordBatch.Check(good.AsSpan(0, RecordBatch.LogOverhead - 1), verifyCrc: true, out _));
        Assert.Equal(BatchCheck.Incomplete, RecordBatch.Check(good.AsSpan(0, good.Length - 1), verifyCrc: true, out int size));
        Assert.Equal(good.Length, size);
        Assert.Equal(BatchCheck.BadLength, RecordBatch.Check(good, verifyCrc: true, out _, maxSize: good.Length - 1));

        var shortLength = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32BigEndian(shortLength.AsSpan(RecordBatch.LengthAt), RecordBatch.HeaderSize - RecordBatch.LogOverhead - 1);
        Assert.Equal(BatchCheck.BadLength, RecordBatch.Check(shortLength, verifyCrc: false, out _));

        var legacy = (byte[])good.Clone();
        legacy[RecordBatch.MagicAt] = 1;
        Assert.Equal(BatchCheck.BadMagic, RecordBatch.Check(legacy, verifyCrc: false, out _));

        var negativeDelta = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32BigEndian(negativeDelta.AsSpan(RecordBatch.LastOffsetDeltaAt), -1);
        Assert.Equal(BatchCheck.BadOffsets, RecordBatch.Check(negativeDelta, verifyCrc: false, out _));

        var damaged = (byte[])good.Clone();
        damaged[^1] ^= 1;
        Assert.Equal(BatchCheck.Ok, RecordBatch.Check(damaged, verifyCrc: false, out _));
        Assert.Equal(BatchCheck.BadCrc, RecordBatch.Check(damaged, verifyCrc: true, out _));
        Assert.False(new RecordBatch(damaged).IsCrcValid);
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
    public void Crc32CCopyAndComputeCopiesAndSumsAsComputeDoes()
    {
        var rng = new Random(7);
        foreach (int len in new[] { 0, 1, 7, 8, 9, 767, 768, 769, 1536, 5003, 65537 })
        {
            var data = new byte[len];
            rng.NextBytes(data);
            var copy = new byte[len + 3];
            Assert.Equal(Crc32C.Compute(data), Crc32C.CopyAndCompute(data, copy));
            Assert.Equal(data, copy.AsSpan(0, len).ToArray());
            Assert.Equal(new byte[3], copy[len..]);
        }
        Assert.Throws<ArgumentException>(() => Crc32C.CopyAndCompute(new byte[9], new byte[8]));
    }

    [Fact]
    public void CopyCheckedCopiesARunOfBatchesAndFindsAnyOfThemDamaged()
    {
        var builder = new RecordBatchBuilder { BaseOffset = 40 };
        for (int i = 0; i < 5; i++)
        {
            builder.Add(i, Encoding.UTF8.GetBytes($"k{i}"), new byte[500 + i]);
        }
        byte[] run = [.. builder.Finish().Span, .. RecordBatchBuilder.Empty(45, 47, 2)];
        var copy = new byte[run.Length];
        Assert.Equal(BatchCheck.Ok, RecordBatch.CopyChecked(run, copy));
        Assert.Equal(run, copy);
        Assert.Equal(BatchCheck.Ok, RecordBatch.CopyChecked([], []));

        foreach (int at in new[] { RecordBatch.AttributesAt, run.Length / 2, run.Length - 1 })
        {
            var damaged = (byte[])run.Clone();
            damaged[at] ^= 0x40;
            Assert.Equal(BatchCheck.BadCrc, RecordBatch.CopyChecked(damaged, new byte[run.Length]));
        }
        Assert.Equal(BatchCheck.Incomplete, RecordBatch.CopyChecked(run.AsSpan(0, run.Length - 1), new byte[run.Length]));
    }

    [Fact]
    public void ControlBatchCarriesTheMarker()
    {
        byte[] bytes = ControlRecord.Marker(ControlRecordType.Commit, 5, 99, 1, 1234);
        Assert.Equal(BatchCheck.Ok, RecordBatch.Check(bytes, verifyCrc: true, out _));
        var batch = new RecordBatch(bytes);
        Assert.True(batch.IsControl);
        Assert.True(batch.IsTransactional);
        var reader = batch.ReadRecords();
        Assert.True(reader.TryNext(out var r));
        Assert.Equal(ControlRecord.KeySize, r.Key.Length);
        Assert.Equal(ControlRecordType.Commit, ControlRecord.ReadType(r.Key));
        Assert.Equal(5, BinaryPrimitives.ReadInt32BigEndian(r.Value[2..]));
        Assert.False(reader.TryNext(out _));
        Assert.False(reader.Malformed);
    }

    [Fact]
    public void LegacyFormatsAreRefusedWithKafka4Errors()
    {
        Assert.Equal(35, LegacyMessageFormat.CheckProduceVersion(2));
        Assert.Equal(0, LegacyMessageFormat.CheckProduceVersion(3));
        Assert.Equal(35, LegacyMessageFormat.CheckFetchVersion(3));
        byte[] bytes = Build(CompressionType.None, 1);
        Assert.Equal(0, LegacyMessageFormat.CheckProduceRecords(bytes));
        bytes[RecordBatch.MagicAt] = 1;
        Assert.Equal(87, LegacyMessageFormat.CheckProduceRecords(bytes));
    }

    [Fact]
    public void EnumerateStopsAtAPartialTrailingBatchAndThrowsOnADamagedOne()
    {
        byte[] one = Build(CompressionType.None, 3), two = Build(CompressionType.Lz4, 4);
        byte[] all = [.. one, .. two, .. two.AsSpan(0, 30)];
        int n = 0;
        foreach (var b in RecordBatch.Enumerate(all))
        {
            Assert.True(b.IsCrcValid);
            n++;
        }
        Assert.Equal(2, n);

        byte[] damaged = [.. one, .. two];
        damaged[one.Length + RecordBatch.MagicAt] = 1;
        Assert.Throws<InvalidDataException>(() =>
        {
            foreach (var b in RecordBatch.Enumerate(damaged)) { }
        });
    }

    [Fact]
    public void CopiedRecordsKeepTheirOffsetsTimestampsAndHeaders()
    {
        byte[] original = Build(CompressionType.None, 6);
        var source = new RecordBatch(original);
        var builder = new RecordBatchBuilder { BaseOffset = source.BaseOffset, Attributes = source.Attributes };
        builder.Reset(source.BaseTimestamp);
        var reader = source.ReadRecords();
        while (reader.TryNext(out var r))
        {
            if (r.OffsetDelta % 2 == 0) builder.Add(r);
        }
        byte[] copy = builder.Finish(source.LastOffsetDelta).ToArray();

        Assert.Equal(BatchCheck.Ok, RecordBatch.Check(copy, verifyCrc: true, out _));
        var batch = new RecordBatch(copy);
        Assert.Equal(3, batch.RecordCount);
        Assert.Equal(source.LastOffset, batch.LastOffset);
        Assert.Equal(source.BaseTimestamp, batch.BaseTimestamp);
        var kept = batch.ReadRecords();
        var all = source.ReadRecords();
        while (all.TryNext(out var expected))
        {
            if (expected.OffsetDelta % 2 != 0) continue;
            Assert.True(kept.TryNext(out var r));
            Assert.Equal(expected.Offset, r.Offset);
            Assert.Equal(expected.Timestamp, r.Timestamp);
            Assert.Equal(expected.HasKey, r.HasKey);
            Assert.True(expected.Value.SequenceEqual(r.Value));
            Assert.Equal(expected.HeaderCount, r.HeaderCount);
            Assert.True(expected.HeaderBytes.SequenceEqual(r.HeaderBytes));
        }
        Assert.False(kept.TryNext(out _));
        Assert.False(kept.Malformed);
    }

    [Fact]
    public void RecordReaderFlagsRecordsThatDoNotAddUp()
    {
        var batch = new RecordBatch(Build(CompressionType.None, 3));
        byte[] payload = batch.Payload.ToArray();

        var tooMany = new RecordReader(payload, 4, 0, 0);
        while (tooMany.TryNext(out _)) { }
        Assert.True(tooMany.Malformed);

        var trailing = new RecordReader([.. payload, 0], 3, 0, 0);
        while (trailing.TryNext(out _)) { }
        Assert.True(trailing.Malformed);

        Assert.True(new RecordReader(payload, -1, 0, 0).Malformed);
        Assert.True(new RecordReader(payload, payload.Length, 0, 0).Malformed);

        // The first record's length prefix (one varint byte) claims more than the payload holds.
        var lying = (byte[])payload.Clone();
        lying[0] = 0x7E;
        var reader = new RecordReader(lying, 3, 0, 0);
        Assert.False(reader.TryNext(out _));
        Assert.True(reader.Malformed);
    }

    [Fact]
    public void VarintsRoundTripAndOverlongOnesAreRefused()
    {
        Span<byte> buffer = stackalloc byte[10];
        foreach (long value in new[] { 0L, 1, -1, 63, -64, 64, int.MaxValue, int.MinValue, long.MaxValue, long.MinValue })
        {
            int n = Varint.Write(buffer, value);
            Assert.Equal(Varint.Size(value), n);
            Assert.True(Varint.TryRead(buffer[..n], out long read, out int size));
            Assert.Equal((value, n), (read, size));
        }
        Assert.False(Varint.TryRead([0x80, 0x80, 0x80], out _, out _));
        Assert.False(Varint.TryRead(Enumerable.Repeat((byte)0xFF, 11).ToArray(), out _, out _));
        Assert.False(Varint.TryRead([.. Enumerable.Repeat((byte)0xFF, 9), 0x02], out _, out _));
        int wide = Varint.Write(buffer, (long)int.MaxValue + 1);
        Assert.False(Varint.TryReadInt(buffer[..wide], out _, out _));
    }

    [Fact]
    public void CorruptedRecordsFailTheirCheckOrReadAsMalformedAndThrowNothingButTheProtocolException()
    {
        var rng = new Random(3);
        foreach (var codec in new[] { CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd })
        {
            var b = new RecordBatchBuilder();
            for (int i = 0; i < 20; i++) b.Add(i, [(byte)i], new byte[50], headers: [new("k", [1])]);
            byte[] good = codec == CompressionType.None ? b.Finish().ToArray() : Compressor.CompressBatch(b.Finish().Span, codec);
            for (int i = 0; i < 1500; i++)
            {
                var bytes = (byte[])good.Clone();
                int pos = rng.Next(RecordBatch.AttributesAt + 2, bytes.Length); // keep the codec bits
                bytes[pos] = (byte)rng.Next(256);
                var ex = Xunit.Record.Exception(() =>
                {
                    if (RecordBatch.Check(bytes, verifyCrc: false, out _) != BatchCheck.Ok) return;
                    using var records = RecordsPayload.Open(new RecordBatch(bytes), new ProtocolLimits { MaxDecompressedBytes = 1 << 20 });
                    var reader = records.ReadRecords();
                    while (reader.TryNext(out var r)) foreach (var h in r.Headers) _ = h.Value.Length;
                });
                Assert.True(ex is null or KafkaProtocolException, $"{codec} byte {pos}: {ex}");
            }
        }
    }
}
