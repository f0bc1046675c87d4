using Eddy.Records;

namespace Eddy.Kafka.Protocol;

/// <summary>
/// Kafka 4 dropped message format v0/v1 on the write path; Eddy stores magic 2 only and refuses the
/// rest with the errors Kafka 4 returns (see docs/protocol.md).
/// </summary>
public static class LegacyMessageFormat
{
    public const short UnsupportedVersion = 35, InvalidRecord = 87;

    /// <summary>Produce v0-2 can only carry magic 0/1 message sets: refused with UNSUPPORTED_VERSION.</summary>
    public static short CheckProduceVersion(short version) => version < 3 ? UnsupportedVersion : (short)0;

    /// <summary>Fetch v0-3 can only return magic 0/1 to the client: refused with UNSUPPORTED_VERSION.</summary>
    public static short CheckFetchVersion(short version) => version < 4 ? UnsupportedVersion : (short)0;

    /// <summary>Produce v3+ must carry exactly magic-2 batches; anything else is INVALID_RECORD.</summary>
    public static short CheckProduceRecords(ReadOnlySpan<byte> records) =>
        records.Length > RecordBatch.MagicAt && records[RecordBatch.MagicAt] != RecordBatch.CurrentMagic ? InvalidRecord : (short)0;
}
