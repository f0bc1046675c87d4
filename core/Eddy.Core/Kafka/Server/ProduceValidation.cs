using System.Buffers.Binary;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Records;

namespace Eddy.Kafka.Server;

/// <summary>
/// The checks a Produce partition's records pass before they reach storage, in place: exactly one v2 batch
/// (Kafka's rule since Produce v3), covering the records field exactly, within max.message.bytes, with a
/// matching CRC32C and a sane record count.
/// </summary>
public static class ProduceValidation
{
    public static short Check(ReadOnlyMemory<byte>? records, int maxMessageBytes, out string? message)
    {
        message = null;
        if (records is not { Length: > 0 } data)
        {
            message = "no records";
            return KafkaErrors.InvalidRecord;
        }
        var span = data.Span;
        if (LegacyMessageFormat.CheckProduceRecords(span) != KafkaErrors.None)
        {
            message = $"message format v{span[RecordBatch.MagicAt]} is not supported; send v2 record batches (Kafka 0.11+ clients)";
            return KafkaErrors.InvalidRecord;
        }
        // The CRC and a negative last offset delta are answered below, in Kafka's order, once the framing holds.
        var check = RecordBatch.Check(span, verifyCrc: false, out int size);
        if (check is not (BatchCheck.Ok or BatchCheck.BadOffsets))
        {
            message = check == BatchCheck.Incomplete
                ? $"record batch truncated: {span.Length} bytes, it needs {Math.Max(size, RecordBatch.HeaderSize)}"
                : $"record batch length {BinaryPrimitives.ReadInt32BigEndian(span[RecordBatch.LengthAt..])} is shorter than its header or longer than any batch";
            return KafkaErrors.CorruptMessage;
        }
        if (size != data.Length)
        {
            message = "a produce request carries exactly one record batch per partition";
            return KafkaErrors.InvalidRecord;
        }
        if (data.Length > maxMessageBytes)
        {
            message = $"the batch is {data.Length} bytes, larger than max.message.bytes ({maxMessageBytes})";
            return KafkaErrors.MessageTooLarge;
        }
        var batch = new RecordBatch(span);
        if (!batch.IsCrcValid)
        {
            message = "record batch CRC32C mismatch";
            return KafkaErrors.CorruptMessage;
        }
        if (batch.RecordCount <= 0 || batch.LastOffsetDelta != batch.RecordCount - 1)
        {
            message = $"record batch has {batch.RecordCount} records but a last offset delta of {batch.LastOffsetDelta}";
            return KafkaErrors.InvalidRecord;
        }
        if (batch.IsControl)
        {
            message = "clients may not produce control batches";
            return KafkaErrors.InvalidRecord;
        }
        return KafkaErrors.None;
    }
}
