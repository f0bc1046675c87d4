using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Broker.Tests;

/// <summary>
/// Leader epochs are real: every start of a node leads its partitions in a new epoch, which every batch appended
/// carries (Confluent consumers see it on each record), which Metadata, ListOffsets and OffsetForLeaderEpoch answer
/// from across restarts as Kafka's leader-epoch cache does, and which Fetch, ListOffsets and OffsetForLeaderEpoch
/// fence a client's current_leader_epoch against. A consumer group that committed in one epoch resumes after a
/// restart where it stopped: librdkafka validates its position with OffsetForLeaderEpoch and finds no truncation.
/// </summary>
public sealed class LeaderEpochTests : IDisposable
{
    private const string Topic = "epochs", Group = "epoch-group";
    private const short FencedLeaderEpoch = 74, UnknownLeaderEpoch = 75;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"eddy-epochs-{Guid.NewGuid():N}");

    private string Data => Path.Combine(_dir, "data");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task EachStartLeadsInANewEpochThatBatchesCarryAndClientsValidateAgainst()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        int port, first, second;
        await using (var node = await InProcessNode.StartAsync(Data))
        {
            port = node.Server.Port;
            first = node.Broker.Table.LeaderEpoch;
            Assert.True(first >= 1, $"a node leads in epoch 1 or later, not {first}");
            using (var admin = ConfluentClientTests.Admin(node.Bootstrap))
            {
                await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = 1, ReplicationFactor = 1 }]);
            }
            await ProduceAsync(node.Bootstrap, 0, 10);
            var consumed = ConsumeInGroup(node.Bootstrap, 10);
            Assert.Equal(Enumerable.Range(0, 10).Select(i => ((long)i, (int?)first)), consumed.Select(c => (c.Offset.Value, c.LeaderEpoch)));
            Assert.Equal(first, await MetadataEpochAsync(port));
        }

        await using (var node = await InProcessNode.StartAsync(Data, port: port))
        {
            second = node.Broker.Table.LeaderEpoch;
            Assert.Equal(first + 1, second);
            Assert.Equal(second, await MetadataEpochAsync(port));
            await ProduceAsync(node.Bootstrap, 10, 10);
            // The group resumes at its commit from the first epoch: no reset, nothing again.
            var resumed = ConsumeInGroup(node.Bootstrap, 10);
            Assert.Equal(Enumerable.Range(10, 10).Select(i => ((long)i, (int?)second)), resumed.Select(c => (c.Offset.Value, c.LeaderEpoch)));
            Assert.Equal(Enumerable.Repeat(first, 10).Concat(Enumerable.Repeat(second, 10)).Select(e => (int?)e), ReadAll(node.Bootstrap, 20).Select(c => c.LeaderEpoch));
        }

        await using (var node = await InProcessNode.StartAsync(Data, port: port))
        {
            int third = node.Broker.Table.LeaderEpoch;
            Assert.Equal(second + 1, third);
            // Kafka's cache after three leaderships, the last with nothing written yet: epoch 1 ends where 2 starts, 2 where
            // 3 starts (the log end), 3 at the log end; an epoch before the first ends where the first starts; a later
            // one is unknown.
            var ends = await EndOffsetsAsync(port, current: -1, first, second, third, third + 1, first - 1, -1);
            Assert.Equal(
                [(0, first, 10L), (0, second, 20L), (0, third, 20L), (0, -1, -1L), (0, first - 1, 0L), (0, -1, -1L)],
                ends);
            Assert.Equal([(FencedLeaderEpoch, -1, -1L)], await EndOffsetsAsync(port, current: second, third));
            Assert.Equal([(UnknownLeaderEpoch, -1, -1L)], await EndOffsetsAsync(port, current: third + 1, third));
            Assert.Equal([(0, third, 20L)], await EndOffsetsAsync(port, current: third, third));

            var earliest = await ListOffsetAsync(port, current: third, timestamp: -2);
            Assert.Equal((0, 0L, first), earliest);
            Assert.Equal((0, 20L, third), await ListOffsetAsync(port, current: third, timestamp: -1));
            Assert.Equal(FencedLeaderEpoch, (await ListOffsetAsync(port, current: second, timestamp: -1)).Error);
            Assert.Equal(UnknownLeaderEpoch, (await ListOffsetAsync(port, current: third + 1, timestamp: -1)).Error);

            Assert.Equal(FencedLeaderEpoch, await FetchErrorAsync(port, current: first));
            Assert.Equal(UnknownLeaderEpoch, await FetchErrorAsync(port, current: third + 1));
            Assert.Equal(0, await FetchErrorAsync(port, current: third));
            Assert.Equal(0, await FetchErrorAsync(port, current: -1));
        }
    }

    [Fact]
    public async Task AMetadataStoreRestoredFromAnOlderCopyStillLeadsAboveTheLogsEpochs()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        string controller = Path.Combine(Data, "controller"), older = Path.Combine(_dir, "controller-copy");
        int port;
        await using (var node = await InProcessNode.StartAsync(Data))
        {
            port = node.Server.Port;
            using (var admin = ConfluentClientTests.Admin(node.Bootstrap))
            {
                await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = 1, ReplicationFactor = 1 }]);
            }
            await ProduceAsync(node.Bootstrap, 0, 2, idempotent: false);
        }
        // Not idempotent: the older copy also remembers fewer producer ids handed out, so ids would be handed out again.
        CopyDirectory(controller, older); // remembers leader epoch 1
        for (int start = 2; start <= 3; start++)
        {
            await using var node = await InProcessNode.StartAsync(Data, port: port);
            Assert.Equal(start, node.Broker.Table.LeaderEpoch);
            await ProduceAsync(node.Bootstrap, (start - 1) * 2, 2, idempotent: false); // the log now carries epoch 3
        }
        Directory.Delete(controller, recursive: true);
        CopyDirectory(older, controller);

        await using (var node = await InProcessNode.StartAsync(Data, port: port))
        {
            // The restored store would lead in epoch 2, below the log's 3: every partition leads in 4 instead, and
            // Metadata says so, so clients that fence with Metadata's epoch are served.
            Assert.Equal(4, node.Broker.Table.LeaderEpoch);
            Assert.Equal(4, await MetadataEpochAsync(port));
            Assert.Equal(0, await FetchErrorAsync(port, current: 4));
            await ProduceAsync(node.Bootstrap, 6, 1, idempotent: false);
            Assert.Equal([1, 1, 2, 2, 3, 3, 4], ReadAll(node.Bootstrap, 7).Select(c => c.LeaderEpoch ?? -1));
        }
    }

    /// <summary>A whole copy, the controller's log under it included (DATA/controller/raft).</summary>
    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (string directory in Directory.EnumerateDirectories(from))
        {
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }

    private static async Task ProduceAsync(string bootstrap, int from, int count, bool idempotent = true)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, EnableIdempotence = idempotent }).Build();
        for (int i = from; i < from + count; i++)
        {
            var result = await producer.ProduceAsync(new TopicPartition(Topic, 0), new Message<Null, string> { Value = $"m{i}" });
            Assert.Equal(i, result.Offset.Value);
        }
    }

    /// <summary>Consumes <paramref name="count"/> records as a member of the group, committing each synchronously.</summary>
    private static List<ConsumeResult<Ignore, string>> ConsumeInGroup(string bootstrap, int count)
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = Group, AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(Topic);
        var results = Take(consumer, count, commit: true);
        consumer.Close();
        return results;
    }

    private static List<ConsumeResult<Ignore, string>> ReadAll(string bootstrap, int count)
    {
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "epoch-reader", EnableAutoCommit = false }).Build();
        consumer.Assign(new TopicPartitionOffset(Topic, 0, Offset.Beginning));
        return Take(consumer, count, commit: false);
    }

    private static List<ConsumeResult<Ignore, string>> Take(IConsumer<Ignore, string> consumer, int count, bool commit)
    {
        var results = new List<ConsumeResult<Ignore, string>>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (results.Count < count && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (result is null || result.IsPartitionEOF)
            {
                continue;
            }
            results.Add(result);
            if (commit)
            {
                consumer.Commit(result);
            }
        }
        Assert.True(results.Count == count, $"consumed {results.Count} of {count} records in 60 s");
        return results;
    }

    private static async Task<int> MetadataEpochAsync(int port)
    {
        using var client = new RawClient(port);
        var response = await client.CallAsync<MetadataResponse>(9, 1, new MetadataRequest { Topics = [new MetadataRequest.MetadataRequestTopic { Name = Topic }] });
        return Assert.Single(Assert.Single(response.Topics).Partitions).LeaderEpoch;
    }

    private static async Task<List<(short Error, int Epoch, long EndOffset)>> EndOffsetsAsync(int port, int current, params int[] epochs)
    {
        using var client = new RawClient(port);
        var response = await client.CallAsync<OffsetForLeaderEpochResponse>(4, 1, new OffsetForLeaderEpochRequest
        {
            ReplicaId = -1,
            Topics =
            [
                new OffsetForLeaderEpochRequest.OffsetForLeaderTopic
                {
                    Topic = Topic,
                    Partitions = epochs.Select(e => new OffsetForLeaderEpochRequest.OffsetForLeaderPartition { Partition = 0, LeaderEpoch = e, CurrentLeaderEpoch = current }).ToList(),
                },
            ],
        });
        return Assert.Single(response.Topics).Partitions.Select(p => (p.ErrorCode, p.LeaderEpoch, p.EndOffset)).ToList();
    }

    private static async Task<(short Error, long Offset, int Epoch)> ListOffsetAsync(int port, int current, long timestamp)
    {
        using var client = new RawClient(port);
        var response = await client.CallAsync<ListOffsetsResponse>(6, 1, new ListOffsetsRequest
        {
            ReplicaId = -1,
            Topics =
            [
                new ListOffsetsRequest.ListOffsetsTopic
                {
                    Name = Topic,
                    Partitions = [new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = 0, CurrentLeaderEpoch = current, Timestamp = timestamp }],
                },
            ],
        });
        var answer = Assert.Single(Assert.Single(response.Topics).Partitions);
        return (answer.ErrorCode, answer.Offset, answer.LeaderEpoch);
    }

    private static async Task<short> FetchErrorAsync(int port, int current)
    {
        using var client = new RawClient(port);
        var response = await client.CallAsync<FetchResponse>(12, 1, new FetchRequest
        {
            ReplicaId = -1, MaxWaitMs = 0, MinBytes = 0, MaxBytes = 1 << 20, SessionEpoch = -1,
            Topics =
            [
                new FetchRequest.FetchTopic
                {
                    Topic = Topic,
                    Partitions = [new FetchRequest.FetchPartition { Partition = 0, CurrentLeaderEpoch = current, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }],
                },
            ],
        });
        return Assert.Single(Assert.Single(response.Responses).Partitions).ErrorCode;
    }
}
