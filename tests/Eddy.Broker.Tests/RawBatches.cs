using Eddy.Kafka.Protocol.Messages;
using Eddy.Records;

namespace Eddy.Broker.Tests;

/// <summary>The record batches of a partition as the broker stores and serves them (a raw Fetch v12), for checks a
/// client cannot make: which codec a batch carries, how large it is.</summary>
internal static class RawBatches
{
    public static async Task<List<(CompressionType Compression, int RecordCount, int Size)>> FetchAsync(int port, string topic, int partition, long offset = 0)
    {
        using var client = new RawClient(port);
        var response = await client.CallAsync<FetchResponse>(12, 1, new FetchRequest
        {
            MaxWaitMs = 0, MinBytes = 0, MaxBytes = 64 << 20,
            Topics = [new FetchRequest.FetchTopic { Topic = topic, Partitions = [new FetchRequest.FetchPartition { Partition = partition, FetchOffset = offset, PartitionMaxBytes = 64 << 20 }] }],
        });
        var data = Assert.Single(Assert.Single(response.Responses).Partitions);
        Assert.Equal(0, data.ErrorCode);
        var batches = new List<(CompressionType, int, int)>();
        foreach (var batch in RecordBatch.Enumerate((data.Records ?? ReadOnlyMemory<byte>.Empty).Span))
        {
            batches.Add((batch.Compression, batch.RecordCount, batch.TotalSize));
        }
        return batches;
    }
}
