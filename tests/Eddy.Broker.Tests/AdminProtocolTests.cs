using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Broker.Tests;

/// <summary>The admin APIs over a raw socket, at each version: what clients other than librdkafka see, and the
/// answers librdkafka never asks for (OffsetForLeaderEpoch, DescribeLogDirs, DescribeCluster itself).</summary>
public class AdminProtocolTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    private int _correlation;

    private async Task<T> CallAsync<T>(short version, IKafkaMessage request) where T : IKafkaMessage
    {
        using var client = new RawClient(node.Server.Port);
        return await client.CallAsync<T>(version, Interlocked.Increment(ref _correlation), request);
    }

    private async Task CreateTopicAsync(string name, int partitions, params (string Name, string Value)[] configs)
    {
        var response = await CallAsync<CreateTopicsResponse>(5, new CreateTopicsRequest
        {
            Topics =
            [
                new CreateTopicsRequest.CreatableTopic
                {
                    Name = name, NumPartitions = partitions, ReplicationFactor = 1,
                    Configs = configs.Select(c => new CreateTopicsRequest.CreatableTopicConfig { Name = c.Name, Value = c.Value }).ToList(),
                },
            ],
        });
        Assert.Equal(0, Assert.Single(response.Topics).ErrorCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task OffsetForLeaderEpochAnswersFromTheEpochHistory(short version)
    {
        string topic = $"epochs-v{version}";
        await CreateTopicAsync(topic, 2);
        await AdminTests.ProduceAsync(node.Bootstrap, topic, 5);
        int e = node.Broker.Table.LeaderEpoch; // the fixture's node started once: its only epoch
        var asks = new (int Partition, int Epoch, int Current)[]
        {
            (0, e, -1), (0, e + 1, -1), (0, -1, -1), (0, e - 1, -1), (0, e, e), (0, e, e + 1), (0, e, e - 1), (1, e, -1), (2, e, -1),
        };
        var request = new OffsetForLeaderEpochRequest
        {
            ReplicaId = -1,
            Topics =
            [
                new OffsetForLeaderEpochRequest.OffsetForLeaderTopic
                {
                    Topic = topic,
                    Partitions = asks.Where(a => version >= 2 || a.Current == -1)
                        .Select(a => new OffsetForLeaderEpochRequest.OffsetForLeaderPartition { Partition = a.Partition, LeaderEpoch = a.Epoch, CurrentLeaderEpoch = a.Current })
                        .ToList(),
                },
                new OffsetForLeaderEpochRequest.OffsetForLeaderTopic
                {
                    Topic = "epochs-no-such-topic",
                    Partitions = [new OffsetForLeaderEpochRequest.OffsetForLeaderPartition { Partition = 0, LeaderEpoch = 0 }],
                },
            ],
        };
        var response = await CallAsync<OffsetForLeaderEpochResponse>(version, request);
        var answers = response.Topics[0].Partitions.Select(p => (p.Partition, (int)p.ErrorCode, version >= 1 ? p.LeaderEpoch : -9, p.EndOffset)).ToList();
        int noEpoch = version >= 1 ? -1 : -9, current = version >= 1 ? e : -9, before = version >= 1 ? e - 1 : -9;
        var expected = new List<(int, int, int, long)>
        {
            (0, 0, current, 5),  // the current epoch ends at the log end offset
            (0, 0, noEpoch, -1), // a later epoch is unknown
            (0, 0, noEpoch, -1), // -1 is undefined
            (0, 0, before, 0),   // an epoch before the first known one ends where that one starts
        };
        if (version >= 2)
        {
            expected.Add((0, 0, current, 5));        // the current epoch matches
            expected.Add((0, 75, noEpoch, -1));      // UNKNOWN_LEADER_EPOCH: the client is ahead
            expected.Add((0, 74, noEpoch, -1));      // FENCED_LEADER_EPOCH: the client is behind
        }
        expected.Add((1, 0, current, 0));            // an empty partition
        expected.Add((2, 3, noEpoch, -1));           // no such partition
        Assert.Equal(expected, answers);
        Assert.Equal(3, Assert.Single(response.Topics[1].Partitions).ErrorCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task DescribeLogDirsReportsTheDataDirectoryAndPartitionSizes(short version)
    {
        string topic = $"log-dirs-v{version}";
        await CreateTopicAsync(topic, 3);
        await AdminTests.ProduceAsync(node.Bootstrap, topic, 20);
        long size = await node.Broker.Group.InvokeAsync(node.Broker.Router.ShardOf(topic, 0), () =>
        {
            Assert.True(node.Broker.Router.TryGetLocal(topic, 0, out var partition));
            return partition.SizeBytes;
        });
        Assert.True(size > 0);

        var all = await CallAsync<DescribeLogDirsResponse>(version, new DescribeLogDirsRequest { Topics = null });
        var dir = Assert.Single(all.Results);
        Assert.Equal((0, Path.GetFullPath(node.DataDirectory)), ((int)dir.ErrorCode, dir.LogDir));
        Assert.Equal(node.Broker.Table.Topics.ByName.Keys.Order(), dir.Topics.Select(t => t.Name).Order());
        var described = Assert.Single(dir.Topics, t => t.Name == topic);
        Assert.Equal([(0, size, 0L, false), (1, 0L, 0L, false), (2, 0L, 0L, false)],
            described.Partitions.Select(p => (p.PartitionIndex, p.PartitionSize, p.OffsetLag, p.IsFutureKey)));
        if (version >= 4)
        {
            Assert.True(dir.TotalBytes > 0 && dir.UsableBytes > 0 && dir.UsableBytes <= dir.TotalBytes, $"total {dir.TotalBytes}, usable {dir.UsableBytes}");
        }

        var some = await CallAsync<DescribeLogDirsResponse>(version, new DescribeLogDirsRequest
        {
            Topics =
            [
                new DescribeLogDirsRequest.DescribableLogDirTopic { Topic = topic, Partitions = [2, 0, 7] },
                new DescribeLogDirsRequest.DescribableLogDirTopic { Topic = "log-dirs-no-such-topic", Partitions = [0] },
            ],
        });
        var only = Assert.Single(Assert.Single(some.Results).Topics);
        Assert.Equal(topic, only.Name);
        Assert.Equal([0, 2], only.Partitions.Select(p => p.PartitionIndex));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task DescribeClusterNamesThisNodeAsTheOnlyBrokerAndTheController(short version)
    {
        var response = await CallAsync<DescribeClusterResponse>(version, new DescribeClusterRequest { EndpointType = 1, IncludeFencedBrokers = version >= 2 });
        Assert.Equal((0, node.Broker.Controller.ClusterId, BrokerFixture.NodeId), ((int)response.ErrorCode, response.ClusterId, response.ControllerId));
        var broker = Assert.Single(response.Brokers);
        Assert.Equal((BrokerFixture.NodeId, "127.0.0.1", node.Server.Port, false), (broker.BrokerId, broker.Host, broker.Port, broker.IsFenced));
        if (version >= 1)
        {
            Assert.Equal(1, response.EndpointType);
            var controllers = await CallAsync<DescribeClusterResponse>(version, new DescribeClusterRequest { EndpointType = 2 });
            Assert.Equal(114, controllers.ErrorCode); // MISMATCHED_ENDPOINT_TYPE
            Assert.Empty(controllers.Brokers);
            var unknown = await CallAsync<DescribeClusterResponse>(version, new DescribeClusterRequest { EndpointType = 9 });
            Assert.Equal(115, unknown.ErrorCode); // UNSUPPORTED_ENDPOINT_TYPE
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task DescribeConfigsReportsSourcesSynonymsTypesAndDocumentationByVersion(short version)
    {
        string topic = $"describe-configs-v{version}";
        await CreateTopicAsync(topic, 1, ("retention.ms", "1000"));
        var response = await CallAsync<DescribeConfigsResponse>(version, new DescribeConfigsRequest
        {
            IncludeSynonyms = version >= 1,
            IncludeDocumentation = version >= 3,
            Resources =
            [
                new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = 2, ResourceName = topic, ConfigurationKeys = ["retention.ms", "cleanup.policy", "no.such.config"] },
                new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = 2, ResourceName = "describe-configs-no-such-topic", ConfigurationKeys = null },
                new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = 2, ResourceName = "bad/name", ConfigurationKeys = null },
                new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = 4, ResourceName = "", ConfigurationKeys = null },
                new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = 4, ResourceName = "8", ConfigurationKeys = null },
                new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = 4, ResourceName = "seven", ConfigurationKeys = null },
                new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = 8, ResourceName = "7", ConfigurationKeys = null },
                new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = 4, ResourceName = "7", ConfigurationKeys = ["num.partitions"] },
            ],
        });
        Assert.Equal([0, 3, 17, 0, 42, 42, 42, 0], response.Results.Select(r => (int)r.ErrorCode));
        Assert.Empty(response.Results[3].Configs); // no cluster-wide dynamic broker configs

        var configs = response.Results[0].Configs.ToDictionary(c => c.Name);
        Assert.Equal(["cleanup.policy", "retention.ms"], configs.Keys.Order());
        var retention = configs["retention.ms"];
        var policy = configs["cleanup.policy"];
        Assert.Equal(("1000", false, "delete"), (retention.Value, retention.ReadOnly, policy.Value));
        if (version == 0)
        {
            Assert.Equal((false, true), (retention.IsDefault, policy.IsDefault));
        }
        else
        {
            Assert.Equal((1, 5), (retention.ConfigSource, policy.ConfigSource));
            Assert.Equal([("retention.ms", "1000", 1), ("log.retention.ms", "604800000", 5)], retention.Synonyms.Select(s => (s.Name, s.Value, (int)s.Source)));
            Assert.Equal([("log.cleanup.policy", "delete", 5)], policy.Synonyms.Select(s => (s.Name, s.Value, (int)s.Source)));
        }
        if (version >= 3)
        {
            Assert.Equal((5, 7), (retention.ConfigType, policy.ConfigType)); // LONG, LIST
            Assert.False(string.IsNullOrEmpty(retention.Documentation));
        }

        var broker = Assert.Single(response.Results[7].Configs);
        Assert.Equal(("num.partitions", "1", false), (broker.Name, broker.Value, broker.ReadOnly)); // a cluster property, changeable
    }

    [Fact]
    public async Task IncrementalAlterConfigsRefusesMalformedChangesPerResource()
    {
        const string topic = "incremental-malformed";
        await CreateTopicAsync(topic, 1);
        static IncrementalAlterConfigsRequest.AlterConfigsResource Resource(sbyte type, string name, params (string Name, sbyte Op, string? Value)[] ops) => new()
        {
            ResourceType = type,
            ResourceName = name,
            Configs = ops.Select(o => new IncrementalAlterConfigsRequest.AlterableConfig { Name = o.Name, ConfigOperation = o.Op, Value = o.Value }).ToList(),
        };
        var response = await CallAsync<IncrementalAlterConfigsResponse>(1, new IncrementalAlterConfigsRequest
        {
            Resources =
            [
                Resource(2, topic, ("retention.ms", 0, "1000"), ("retention.ms", 1, null)),      // the same config twice
                Resource(2, topic + "-other", ("retention.ms", 7, "1000")),                       // unknown operation
                Resource(2, topic + "-third", ("retention.ms", 0, null)),                         // SET without a value
                Resource(4, "7", ("log.retention.ms", 0, "1000")),                                // broker configs are read-only
                Resource(2, topic + "-twice", ("retention.ms", 0, "1000")),                       // the same resource twice
                Resource(2, topic + "-twice", ("retention.ms", 0, "1000")),
                Resource(4, "", ("num.partitions", 1, null)),                                     // deleting what cannot exist is fine
                Resource(4, "3", ("num.partitions", 1, null)),                                    // another node
                Resource(2, "bad/name", ("retention.ms", 0, "1000")),
                Resource(16, "x", ("a", 0, "b")),
            ],
        });
        Assert.Equal([42, 42, 42, 42, 42, 42, 0, 42, 17, 42], response.Responses.Select(r => (int)r.ErrorCode));
        Assert.Contains("log.retention.ms", response.Responses[3].ErrorMessage);
        Assert.True(node.Broker.Table.Topics.TryGet(topic, out var info));
        Assert.Empty(info.Configs);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task AlterConfigsReplacesTheSetAndRefusesBrokerChanges(short version)
    {
        string topic = $"alter-configs-v{version}";
        await CreateTopicAsync(topic, 1, ("retention.ms", "1000"), ("segment.ms", "5000"));
        var response = await CallAsync<AlterConfigsResponse>(version, new AlterConfigsRequest
        {
            Resources =
            [
                new AlterConfigsRequest.AlterConfigsResource
                {
                    ResourceType = 2, ResourceName = topic,
                    Configs = [new AlterConfigsRequest.AlterableConfig { Name = "retention.bytes", Value = "100000" }, new AlterConfigsRequest.AlterableConfig { Name = "segment.ms", Value = null }],
                },
                new AlterConfigsRequest.AlterConfigsResource
                {
                    ResourceType = 4, ResourceName = "7", Configs = [new AlterConfigsRequest.AlterableConfig { Name = "num.partitions", Value = "3" }],
                },
                new AlterConfigsRequest.AlterConfigsResource
                {
                    ResourceType = 2, ResourceName = "alter-configs-no-such-topic", Configs = [new AlterConfigsRequest.AlterableConfig { Name = "retention.bytes", Value = "1" }],
                },
            ],
        });
        Assert.Equal([(2, topic, 0), (4, "7", 42), (2, "alter-configs-no-such-topic", 3)], response.Responses.Select(r => ((int)r.ResourceType, r.ResourceName, (int)r.ErrorCode)));
        Assert.True(node.Broker.Table.Topics.TryGet(topic, out var info));
        Assert.Equal([new KeyValuePair<string, string>("retention.bytes", "100000")], info.Configs);
    }

    [Fact]
    public async Task CreatePartitionsRefusesATopicNamedTwiceAndMismatchedAssignments()
    {
        const string topic = "create-partitions-raw";
        await CreateTopicAsync(topic, 1);
        var response = await CallAsync<CreatePartitionsResponse>(3, new CreatePartitionsRequest
        {
            Topics =
            [
                new CreatePartitionsRequest.CreatePartitionsTopic { Name = topic, Count = 2, Assignments = null },
                new CreatePartitionsRequest.CreatePartitionsTopic { Name = topic, Count = 3, Assignments = null },
                new CreatePartitionsRequest.CreatePartitionsTopic { Name = "create-partitions-other", Count = 3, Assignments = null },
            ],
        });
        Assert.Equal([(topic, 42), (topic, 42), ("create-partitions-other", 3)], response.Results.Select(r => (r.Name, (int)r.ErrorCode)));

        var assigned = await CallAsync<CreatePartitionsResponse>(3, new CreatePartitionsRequest
        {
            Topics =
            [
                new CreatePartitionsRequest.CreatePartitionsTopic
                {
                    Name = topic, Count = 3,
                    Assignments = [new CreatePartitionsRequest.CreatePartitionsAssignment { BrokerIds = [BrokerFixture.NodeId] }],
                },
            ],
        });
        Assert.Equal(39, Assert.Single(assigned.Results).ErrorCode); // two new partitions, one assignment
        Assert.True(node.Broker.Table.Topics.TryGet(topic, out var info));
        Assert.Equal(1, info.PartitionCount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task DeleteRecordsChecksPolicyAndRange(short version)
    {
        string deletable = $"delete-records-v{version}";
        string compacted = $"delete-records-compacted-v{version}";
        await CreateTopicAsync(deletable, 1);
        await CreateTopicAsync(compacted, 1, ("cleanup.policy", "compact"));
        await AdminTests.ProduceAsync(node.Bootstrap, deletable, 3);
        static DeleteRecordsRequest.DeleteRecordsTopic Ask(string topic, params (int Partition, long Offset)[] partitions) => new()
        {
            Name = topic,
            Partitions = partitions.Select(p => new DeleteRecordsRequest.DeleteRecordsPartition { PartitionIndex = p.Partition, Offset = p.Offset }).ToList(),
        };
        var response = await CallAsync<DeleteRecordsResponse>(version, new DeleteRecordsRequest
        {
            Topics = [Ask(deletable, (0, -5), (0, 4), (0, 2), (1, 0)), Ask(compacted, (0, 0)), Ask("delete-records-no-such-topic", (0, 0))],
            TimeoutMs = 5000,
        });
        Assert.Equal([(0, 1, -1L), (0, 1, -1), (0, 0, 2), (1, 3, -1)],
            response.Topics[0].Partitions.Select(p => (p.PartitionIndex, (int)p.ErrorCode, p.LowWatermark)));
        Assert.Equal((44, -1L), ((int)response.Topics[1].Partitions[0].ErrorCode, response.Topics[1].Partitions[0].LowWatermark)); // POLICY_VIOLATION
        Assert.Equal(3, response.Topics[2].Partitions[0].ErrorCode);
    }
}
