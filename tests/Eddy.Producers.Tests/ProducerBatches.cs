using Eddy.Kafka.Protocol;

namespace Eddy.Producers.Tests;

/// <summary>Client batches as an idempotent producer sends them.</summary>
public static class ProducerBatches
{
    public static byte[] Make(long producerId, short epoch, int baseSequence, int records, long timestamp = 1_000, bool transactional = false)
    {
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = baseSequence, IsTransactional = transactional };
        for (int i = 0; i < records; i++)
        {
            builder.Add(timestamp + i, "key"u8, "value"u8);
        }
        return builder.ToArray();
    }

    public static byte[] Plain(int records, long timestamp = 1_000) => Make(-1, -1, -1, records, timestamp);
}
