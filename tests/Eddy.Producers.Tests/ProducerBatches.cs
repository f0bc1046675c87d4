using Eddy.Records;

namespace Eddy.Producers.Tests;

/// <summary>Client batches as an idempotent producer sends them.</summary>
public static class ProducerBatches
{
    public static byte[] Make(long producerId, short epoch, int baseSequence, int records, long timestamp = 1_000, bool transactional = false)
    {
        var builder = new RecordBatchBuilder
        {
            ProducerId = producerId,
            ProducerEpoch = epoch,
            BaseSequence = baseSequence,
            Attributes = transactional ? RecordBatch.TransactionalFlag : (short)0,
        };
        for (int i = 0; i < records; i++)
        {
            builder.Add(timestamp + i, "key"u8, "value"u8);
        }
        return builder.Finish().ToArray();
    }

    public static byte[] Plain(int records, long timestamp = 1_000) => Make(-1, -1, -1, records, timestamp);
}
