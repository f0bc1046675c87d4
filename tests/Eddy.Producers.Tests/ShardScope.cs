using Eddy.Records;
using Eddy.Runtime;

namespace Eddy.Producers.Tests;

/// <summary>Shards on the backend CI chose (EDDY_IO_BACKEND) and a scratch directory, removed after.</summary>
public sealed class ShardScope : IDisposable
{
    public ShardScope(int shards = 1)
    {
        Root = Directory.CreateTempSubdirectory("eddy-producers-").FullName;
        Group = ShardGroup.Start(new ShardGroupOptions { ShardCount = shards, PinThreads = false });
    }

    public string Root { get; }

    public ShardGroup Group { get; }

    public string LogDir(string name = "0_1") => Path.Combine(Root, "kafka", "topic", name);

    public Task<T> Run<T>(Func<ValueTask<T>> work, int shard = 0) => Group.InvokeAsync(shard, work);

    public Task Run(Func<ValueTask> work, int shard = 0) => Group.InvokeAsync(shard, work);

    public void Dispose()
    {
        Group.Stop(TimeSpan.FromSeconds(20));
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

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
