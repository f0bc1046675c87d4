using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using Eddy.Hashing;
using Eddy.Records;

namespace Eddy.Kafka.Protocol;

/// <summary>
/// Compresses and decompresses record batch payloads. Decompression writes into a pooled buffer that
/// grows as needed but never past the caller's maximum, so a small "zip bomb" batch cannot take memory
/// it was not allowed. Any failure inside a codec becomes a CORRUPT_MESSAGE protocol exception.
/// </summary>
public static class Compressor
{
    /// <summary>Decompresses a whole payload; returns a rented buffer (return it to ArrayPool.Shared) and the length used.</summary>
    public static (byte[] Buffer, int Length) Decompress(CompressionType type, ReadOnlySpan<byte> src, int maxBytes)
    {
        try
        {
            return type switch
            {
                CompressionType.Gzip => FromStream(s => new GZipStream(s, CompressionMode.Decompress), src, maxBytes),
                CompressionType.Zstd => FromStream(s => new ZstdSharp.DecompressionStream(s), src, maxBytes),
                CompressionType.Snappy => SnappyCodec.Decompress(src, maxBytes),
                CompressionType.Lz4 => Lz4Frame.Decompress(src, maxBytes),
                _ => throw new KafkaProtocolException($"cannot decompress codec {type}", 0, 76),
            };
        }
        catch (Exception e) when (e is not KafkaProtocolException)
        {
            throw new KafkaProtocolException($"{type} payload is corrupt: {e.Message}", 0, KafkaProtocolException.CorruptMessage, e);
        }
    }

    /// <summary>Compresses <paramref name="src"/> onto the end of <paramref name="dst"/>.</summary>
    public static void Compress(CompressionType type, ReadOnlySpan<byte> src, KafkaWriter dst)
    {
        switch (type)
        {
            case CompressionType.None: dst.WriteRaw(src); break;
            case CompressionType.Gzip:
                using (var gz = new GZipStream(new BufferWriterStream(dst), CompressionLevel.Fastest)) gz.Write(src);
                break;
            case CompressionType.Snappy:
                // Raw snappy, as librdkafka writes it; Java clients and this reader accept raw and xerial framing.
                dst.Advance(Snappier.Snappy.Compress(src, dst.GetSpan(Snappier.Snappy.GetMaxCompressedLength(src.Length))));
                break;
            case CompressionType.Lz4: Lz4Frame.Compress(src, dst); break;
            case CompressionType.Zstd:
                using (var z = new ZstdSharp.Compressor(3))
                    dst.Advance(z.Wrap(src, dst.GetSpan(ZstdSharp.Compressor.GetCompressBound(src.Length))));
                break;
            default: throw new ArgumentOutOfRangeException(nameof(type));
        }
    }

    /// <summary>A plain batch with its records compressed by <paramref name="type"/>: the header is kept and its codec
    /// bits, length and CRC rewritten. The broker stores batches as clients compressed them, so this only makes such
    /// batches for tests and benchmarks.</summary>
    public static byte[] CompressBatch(ReadOnlySpan<byte> plainBatch, CompressionType type)
    {
        var plain = new RecordBatch(plainBatch);
        using var writer = new KafkaWriter(plain.TotalSize);
        writer.WriteRaw(plainBatch[..RecordBatch.HeaderSize]);
        Compress(type, plain.Payload, writer);
        var batch = writer.WrittenForPatch(0, writer.Length);
        BinaryPrimitives.WriteInt16BigEndian(batch[RecordBatch.AttributesAt..], (short)((plain.Attributes & ~RecordBatch.CompressionMask) | (int)type));
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordBatch.LengthAt..], batch.Length - RecordBatch.LogOverhead);
        BinaryPrimitives.WriteUInt32BigEndian(batch[RecordBatch.CrcAt..], Crc32C.Compute(batch[RecordBatch.AttributesAt..]));
        return batch.ToArray();
    }

    /// <summary>Reads a decompressing stream into a growing pooled buffer, failing once it passes maxBytes.</summary>
    private static (byte[], int) FromStream(Func<Stream, Stream> open, ReadOnlySpan<byte> src, int maxBytes)
    {
        var input = ArrayPool<byte>.Shared.Rent(src.Length);
        src.CopyTo(input);
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(maxBytes + 1L, Math.Max(4096L, src.Length * 4L)));
        int length = 0;
        try
        {
            using var stream = open(new MemoryStream(input, 0, src.Length, writable: false));
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > maxBytes) break;
                    buffer = GrowPooled(buffer, length, (int)Math.Min(maxBytes + 1L, length * 2L));
                }
                int n = stream.Read(buffer, length, buffer.Length - length);
                if (n == 0) break;
                length += n;
            }
            if (length > maxBytes) throw new KafkaProtocolException($"payload expands past the {maxBytes}-byte limit", 0, KafkaProtocolException.CorruptMessage);
            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
        }
    }

    internal static byte[] GrowPooled(byte[] buffer, int used, int size)
    {
        var next = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, used).CopyTo(next);
        ArrayPool<byte>.Shared.Return(buffer);
        return next;
    }

    /// <summary>Snappy, raw or in the xerial framing the Java client writes (magic, version, int32-sized chunks).</summary>
    private static class SnappyCodec
    {
        private static ReadOnlySpan<byte> XerialMagic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];

        public static (byte[], int) Decompress(ReadOnlySpan<byte> src, int maxBytes)
        {
            if (!src.StartsWith(XerialMagic)) return Chunks(src, maxBytes, framed: false);
            if (src.Length < 16) throw new KafkaProtocolException("xerial snappy header truncated", 0, KafkaProtocolException.CorruptMessage);
            return Chunks(src[16..], maxBytes, framed: true);
        }

        private static (byte[], int) Chunks(ReadOnlySpan<byte> src, int maxBytes, bool framed)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Min(maxBytes, Math.Max(4096, src.Length * 2)));
            int length = 0;
            try
            {
                while (!src.IsEmpty)
                {
                    ReadOnlySpan<byte> chunk = src;
                    if (framed)
                    {
                        if (src.Length < 4) throw new KafkaProtocolException("xerial chunk header truncated", 0, KafkaProtocolException.CorruptMessage);
                        int size = BinaryPrimitives.ReadInt32BigEndian(src);
                        if (size < 0 || size > src.Length - 4) throw new KafkaProtocolException($"xerial chunk size {size} out of range", 0, KafkaProtocolException.CorruptMessage);
                        chunk = src.Slice(4, size);
                    }
                    int outLen = Snappier.Snappy.GetUncompressedLength(chunk);
                    if (outLen < 0 || outLen > maxBytes - length) throw new KafkaProtocolException($"payload expands past the {maxBytes}-byte limit", 0, KafkaProtocolException.CorruptMessage);
                    if (buffer.Length - length < outLen) buffer = GrowPooled(buffer, length, Math.Max(length + outLen, Math.Min(maxBytes, buffer.Length * 2)));
                    length += Snappier.Snappy.Decompress(chunk, buffer.AsSpan(length, outLen));
                    src = framed ? src[(4 + chunk.Length)..] : default;
                }
                return (buffer, length);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
        }
    }

    /// <summary>A write-only stream onto a KafkaWriter, for GZipStream.</summary>
    private sealed class BufferWriterStream(KafkaWriter w) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => w.Length;
        public override long Position { get => w.Length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => w.WriteRaw(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer) => w.WriteRaw(buffer);
    }
}
