using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using K4os.Compression.LZ4;

namespace Eddy.Kafka.Protocol;

/// <summary>
/// The LZ4 frame format (what Kafka's lz4 codec carries since magic 1), on top of K4os's block codec:
/// the K4os frame/stream package is not a dependency of core, and a frame is a short header around
/// size-prefixed blocks. Reads linked or independent blocks and optional checksums; writes independent
/// 64 KiB blocks without checksums, as the Java client does.
/// </summary>
internal static class Lz4Frame
{
    private const uint Magic = 0x184D2204;
    private const int WriteBlockSize = 64 * 1024;

    public static (byte[], int) Decompress(ReadOnlySpan<byte> src, int maxBytes)
    {
        if (src.Length < 7 || BinaryPrimitives.ReadUInt32LittleEndian(src) != Magic) Corrupt("lz4 frame magic missing");
        byte flg = src[4], bd = src[5];
        if (flg >> 6 != 1) Corrupt($"lz4 frame version {flg >> 6} unsupported");
        bool independent = (flg & 0x20) != 0, blockChecksum = (flg & 0x10) != 0, hasContentSize = (flg & 0x08) != 0,
            contentChecksum = (flg & 0x04) != 0, hasDictId = (flg & 0x01) != 0;
        int blockMax = ((bd >> 4) & 7) switch { 4 => 64 << 10, 5 => 256 << 10, 6 => 1 << 20, 7 => 4 << 20, _ => -1 };
        if (blockMax < 0) Corrupt("lz4 frame block size invalid");
        int descriptorEnd = 6 + (hasContentSize ? 8 : 0) + (hasDictId ? 4 : 0);
        if (src.Length < descriptorEnd + 1) Corrupt("lz4 frame header truncated");
        byte hc = (byte)(XxHash32.HashToUInt32(src[4..descriptorEnd]) >> 8);
        if (src[descriptorEnd] != hc) Corrupt("lz4 frame header checksum mismatch");
        int pos = descriptorEnd + 1;

        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Min(maxBytes, Math.Max(blockMax, src.Length * 3)));
        int length = 0;
        try
        {
            while (true)
            {
                if (src.Length - pos < 4) Corrupt("lz4 block size truncated");
                uint raw = BinaryPrimitives.ReadUInt32LittleEndian(src[pos..]);
                pos += 4;
                if (raw == 0) break; // end mark
                bool stored = (raw & 0x80000000u) != 0;
                int size = (int)(raw & 0x7FFFFFFF);
                if (size > blockMax || size > src.Length - pos - (blockChecksum ? 4 : 0)) Corrupt($"lz4 block size {size} out of range");
                var block = src.Slice(pos, size);
                pos += size;
                if (blockChecksum)
                {
                    if (XxHash32.HashToUInt32(block) != BinaryPrimitives.ReadUInt32LittleEndian(src[pos..])) Corrupt("lz4 block checksum mismatch");
                    pos += 4;
                }
                int room = Math.Min(blockMax, maxBytes - length);
                if (buffer.Length - length < room) buffer = Compressor.GrowPooled(buffer, length, Math.Min(maxBytes, Math.Max(length + room, buffer.Length * 2)));
                var target = buffer.AsSpan(length, room);
                int n;
                if (stored)
                {
                    if (size > room) TooLarge(maxBytes);
                    block.CopyTo(target);
                    n = size;
                }
                else
                {
                    // Linked blocks may refer back up to 64 KiB into what was already decoded.
                    var dict = independent ? default : buffer.AsSpan(Math.Max(0, length - 65536), Math.Min(length, 65536));
                    n = independent ? LZ4Codec.Decode(block, target) : LZ4Codec.Decode(block, target, dict);
                    if (n < 0) { if (room < blockMax) TooLarge(maxBytes); Corrupt("lz4 block does not decode"); }
                }
                length += n;
            }
            if (contentChecksum)
            {
                if (src.Length - pos < 4) Corrupt("lz4 content checksum truncated");
                if (XxHash32.HashToUInt32(buffer.AsSpan(0, length)) != BinaryPrimitives.ReadUInt32LittleEndian(src[pos..])) Corrupt("lz4 content checksum mismatch");
                pos += 4;
            }
            if (pos != src.Length) Corrupt($"{src.Length - pos} bytes after the lz4 frame");
            return (buffer, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public static void Compress(ReadOnlySpan<byte> src, KafkaWriter dst)
    {
        Span<byte> header = [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0]; // magic, FLG: v01 + independent blocks, BD: 64 KiB
        header[6] = (byte)(XxHash32.HashToUInt32(header[4..6]) >> 8);
        dst.WriteRaw(header);
        for (int i = 0; i < src.Length; i += WriteBlockSize)
        {
            var chunk = src.Slice(i, Math.Min(WriteBlockSize, src.Length - i));
            var span = dst.GetSpan(4 + LZ4Codec.MaximumOutputSize(chunk.Length));
            int n = LZ4Codec.Encode(chunk, span[4..]);
            if (n <= 0 || n >= chunk.Length)
            {
                // Incompressible: store the block as is, flagged by the high bit.
                BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)chunk.Length | 0x80000000u);
                chunk.CopyTo(span[4..]);
                n = chunk.Length;
            }
            else BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)n);
            dst.Advance(4 + n);
        }
        dst.WriteUInt32(0); // end mark (zero either way round)
    }

    private static void Corrupt(string what) => throw new KafkaProtocolException(what, 0, KafkaProtocolException.CorruptMessage);
    private static void TooLarge(int max) => throw new KafkaProtocolException($"payload expands past the {max}-byte limit", 0, KafkaProtocolException.CorruptMessage);
}
