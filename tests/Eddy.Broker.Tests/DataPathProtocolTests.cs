using System.Diagnostics;
using System.Text;
using Eddy.Cluster;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Records;

namespace Eddy.Broker.Tests;

/// <summary>Produce and Fetch over raw sockets: pipelined produces keep their order, and a long-polling fetch wakes
/// when data arrives instead of waiting out max.wait.ms.</summary>
public class DataPathProtocolTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    private async Task<string> CreateTopicAsync(string name, int partitions)
    {
        var created = await node.Broker.Group.InvokeAsync(0, () => node.Broker.Table.CreateTopicAsync(new TopicSpec(name, partitions, 1, new Dictionary<string, string>()), false));
        Assert.True(created.IsOk, created.Message);
        return name;
    }

    private static byte[] Batch(string value)
    {
        var builder = new RecordBatchBuilder();
        builder.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), default, Encoding.UTF8.GetBytes(value), keyIsNull: true);
        return builder.Finish().ToArray();
    }

    private static ProduceRequest Produce(string topic, int partition, string value) => new()
    {
        Acks = -1,
        TimeoutMs = 10000,
        TopicData = [new() { Name = topic, PartitionData = [new() { Index = partition, Records = Batch(value) }] }],
    };

    [Fact]
    public async Task PipelinedProducesOnOneConnectionAreAnsweredInOrderWithAscendingOffsets()
    {
        string topic = await CreateTopicAsync("pipelined", 2);
        using var client = new RawClient(node.Server.Port);
        // 100 requests in one write: the connection handles many at once, answers in request order, and each
        // partition's appends keep the order the requests came in.
        var bytes = new List<byte>();
        for (int i = 0; i < 100; i++)
        {
            bytes.AddRange(RawClient.Request(0, 9, 5000 + i, Produce(topic, i % 2, $"m{i}")));
        }
        client.Send([.. bytes]);
        var offsets = new List<(int Partition, long Offset)>();
        for (int i = 0; i < 100; i++)
        {
            var frame = await client.ReadFrameAsync();
            Assert.NotNull(frame);
            var response = (ProduceResponse)KafkaFrames.DecodeResponse(frame, 0, 9, out int correlationId);
            Assert.Equal(5000 + i, correlationId);
            var partition = response.Responses.Single().PartitionResponses.Single();
            Assert.Equal(0, partition.ErrorCode);
            offsets.Add((partition.Index, partition.BaseOffset));
        }
        foreach (var byPartition in offsets.GroupBy(o => o.Partition))
        {
            Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), byPartition.Select(o => o.Offset));
        }
    }

    [Fact]
    public async Task AFetchWaitingForDataWakesWhenItIsProduced()
    {
        string topic = await CreateTopicAsync("long-poll", 1);
        using var consumer = new RawClient(node.Server.Port);
        var fetch = new FetchRequest
        {
            MaxWaitMs = 20000, MinBytes = 1, MaxBytes = 1 << 20, SessionEpoch = -1,
            Topics = [new() { Topic = topic, Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
        };
        var clock = Stopwatch.StartNew();
        consumer.Send(RawClient.Request(1, 12, 77, fetch));
        var pending = consumer.ReadFrameAsync();
        await Task.Delay(300);
        Assert.False(pending.IsCompleted, "the fetch answered before there was data");

        using var producer = new RawClient(node.Server.Port);
        var produced = await producer.CallAsync<ProduceResponse>(9, 1, Produce(topic, 0, "wake up"));
        Assert.Equal(0, produced.Responses[0].PartitionResponses[0].ErrorCode);

        var frame = await pending;
        Assert.NotNull(frame);
        // Far below max.wait.ms: the append woke it.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the fetch took {clock.Elapsed}");
        var response = (FetchResponse)KafkaFrames.DecodeResponse(frame, 1, 12, out _);
        var data = response.Responses.Single().Partitions.Single();
        Assert.Equal((0, 1L), ((int)data.ErrorCode, data.HighWatermark));
        var batch = new RecordBatch(data.Records!.Value.Span);
        Assert.Equal(0, batch.BaseOffset);
        var reader = batch.ReadRecords();
        Assert.True(reader.TryNext(out var record));
        Assert.Equal("wake up", Encoding.UTF8.GetString(record.Value));
    }

    [Fact]
    public async Task AFetchWithNothingToReadAnswersEmptyAfterMaxWait()
    {
        string topic = await CreateTopicAsync("long-poll-empty", 1);
        using var consumer = new RawClient(node.Server.Port);
        var response = await consumer.CallAsync<FetchResponse>(12, 3, new FetchRequest
        {
            MaxWaitMs = 200, MinBytes = 1, MaxBytes = 1 << 20, SessionEpoch = -1,
            Topics = [new() { Topic = topic, Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
        });
        var data = response.Responses.Single().Partitions.Single();
        Assert.Equal((0, 0L, 0), ((int)data.ErrorCode, data.HighWatermark, data.Records?.Length ?? 0));
        Assert.Equal(0, response.SessionId);
    }
}
