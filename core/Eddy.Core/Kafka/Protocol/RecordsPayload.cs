using System.Buffers;
using Eddy.Records;

namespace Eddy.Kafka.Protocol;

/// <summary>
/// The records of one batch ready to read: the batch's own bytes when it is plain, else a copy decompressed into a
/// pooled buffer (bounded by <see cref="ProtocolLimits.MaxDecompressedBytes"/>). Dispose it to return the buffer.
/// </summary>
public ref struct RecordsPayload
{
    private byte[]? _rented;
    private readonly int _count;
    private readonly long _baseOffset;
    private readonly long _baseTimestamp;

    private RecordsPayload(ReadOnlySpan<byte> data, byte[]? rented, RecordBatch batch)
    {
        Data = data;
        _rented = rented;
        _count = batch.RecordCount;
        _baseOffset = batch.BaseOffset;
        _baseTimestamp = batch.BaseTimestamp;
    }

    public ReadOnlySpan<byte> Data { get; private set; }

    /// <summary>Throws <see cref="KafkaProtocolException"/> when the payload does not decompress.</summary>
    public static RecordsPayload Open(RecordBatch batch, ProtocolLimits? limits = null)
    {
        if (batch.Compression == CompressionType.None)
        {
            return new RecordsPayload(batch.Payload, null, batch);
        }
        var (buffer, length) = Compressor.Decompress(batch.Compression, batch.Payload, (limits ?? ProtocolLimits.Default).MaxDecompressedBytes);
        return new RecordsPayload(buffer.AsSpan(0, length), buffer, batch);
    }

    public readonly RecordReader ReadRecords() => new(Data, _count, _baseOffset, _baseTimestamp);

    public void Dispose()
    {
        if (_rented is { } rented)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
        _rented = null;
        Data = default;
    }
}
