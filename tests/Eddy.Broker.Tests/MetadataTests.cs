using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Broker.Tests;

/// <summary>Metadata over a raw socket at old, flexible and newest versions.</summary>
public class MetadataTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    /// <summary>Asks for topics without creating them (v4+; before v4 Kafka always auto-creates).</summary>
    private static MetadataRequest Ask(params string[] topics) => new()
    {
        Topics = topics.Select(t => new MetadataRequest.MetadataRequestTopic { Name = t }).ToList(),
        AllowAutoTopicCreation = false,
    };

    [Theory]
    [InlineData(4)]
    [InlineData(9)]
    [InlineData(12)]
    public async Task NamedTopicsAreUnknownOrInvalid(short version)
    {
        using var client = new RawClient(node.Server.Port);
        var response = await client.CallAsync<MetadataResponse>(version, 3, Ask("orders", "bad/name", "", new string('x', 250), "ok.name_2-x"));
        var broker = Assert.Single(response.Brokers);
        Assert.Equal((BrokerFixture.NodeId, "127.0.0.1", node.Server.Port), (broker.NodeId, broker.Host, broker.Port));
        if (version >= 1)
        {
            Assert.Equal(BrokerFixture.NodeId, response.ControllerId);
        }
        if (version >= 2)
        {
            Assert.Equal(node.Broker.Controller.ClusterId, response.ClusterId);
        }
        Assert.Equal(
            [("orders", 3), ("bad/name", 17), ("", 17), (new string('x', 250), 17), ("ok.name_2-x", 3)],
            response.Topics.Select(t => (t.Name, (int)t.ErrorCode)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(12)]
    public async Task UnknownValidNamesAreCreatedWhenAllowedAndInvalidOnesRefused(short version)
    {
        using var client = new RawClient(node.Server.Port);
        string name = $"auto-created-v{version}";
        var request = new MetadataRequest
        {
            Topics = [new MetadataRequest.MetadataRequestTopic { Name = name }, new MetadataRequest.MetadataRequestTopic { Name = "bad/name" }],
            AllowAutoTopicCreation = true,
        };
        var response = await client.CallAsync<MetadataResponse>(version, 3, request);
        Assert.Equal([(name, 0), ("bad/name", 17)], response.Topics.Select(t => (t.Name, (int)t.ErrorCode)));
        var partition = Assert.Single(response.Topics[0].Partitions);
        Assert.Equal((0, BrokerFixture.NodeId, 0), (partition.PartitionIndex, partition.LeaderId, partition.ErrorCode));
        Assert.Equal([BrokerFixture.NodeId], partition.IsrNodes);
        Assert.True(node.Broker.Table.Topics.TryGet(name, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(12)]
    public async Task AllTopicsListsEveryTopicWithTheOffsetsTopicInternal(short version)
    {
        using var client = new RawClient(node.Server.Port);
        // v0 says "all" with an empty list; v1+ with null.
        var request = new MetadataRequest { Topics = version == 0 ? [] : null };
        var response = await client.CallAsync<MetadataResponse>(version, 4, request);
        Assert.Equal(node.Broker.Table.Topics.ByName.Keys.Order(), response.Topics.Select(t => t.Name!).Order());
        var offsets = Assert.Single(response.Topics, t => t.Name == "__consumer_offsets");
        Assert.Equal(4, offsets.Partitions.Count);
        if (version >= 1)
        {
            Assert.True(offsets.IsInternal);
        }
        Assert.Single(response.Brokers);
    }

    [Fact]
    public async Task TopicByIdIsUnknownTopicId()
    {
        using var client = new RawClient(node.Server.Port);
        var id = Guid.NewGuid();
        var request = new MetadataRequest { Topics = [new MetadataRequest.MetadataRequestTopic { Name = null, TopicId = id }] };
        var response = await client.CallAsync<MetadataResponse>(12, 5, request);
        var topic = Assert.Single(response.Topics);
        Assert.Equal((100, id, (string?)null), ((int)topic.ErrorCode, topic.TopicId, topic.Name));
    }

    [Fact]
    public async Task PipelinedRequestsAreAnsweredInOrder()
    {
        using var client = new RawClient(node.Server.Port);
        // Many requests in one write, so they arrive in one receive and are answered in one batch.
        var bytes = new List<byte>();
        for (int i = 0; i < 50; i++)
        {
            bytes.AddRange(i % 2 == 0
                ? RawClient.Request(3, 12, 1000 + i, Ask("t" + i))
                : RawClient.Request(18, 3, 1000 + i, new ApiVersionsRequest { ClientSoftwareName = "a", ClientSoftwareVersion = "1" }));
        }
        client.Send([.. bytes]);
        for (int i = 0; i < 50; i++)
        {
            var frame = await client.ReadFrameAsync();
            Assert.NotNull(frame);
            Assert.Equal(1000 + i, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(frame));
        }
    }

    [Fact]
    public async Task FramesSplitAcrossWritesAndLargerThanTheFirstBuffer()
    {
        using var client = new RawClient(node.Server.Port);
        // About 200 KiB of topic names: more than the connection's initial 16 KiB buffer, sent in uneven pieces.
        var names = Enumerable.Range(0, 2000).Select(i => $"topic-{i:D5}-" + new string('n', 90)).ToArray();
        var bytes = RawClient.Request(3, 12, 9, Ask(names));
        var random = new Random(5);
        for (int at = 0; at < bytes.Length;)
        {
            int n = Math.Min(bytes.Length - at, random.Next(1, 40000));
            client.Send(bytes[at..(at + n)]);
            at += n;
        }
        var frame = await client.ReadFrameAsync();
        Assert.NotNull(frame);
        var response = (MetadataResponse)Eddy.Kafka.Protocol.KafkaFrames.DecodeResponse(frame, 3, 12, out int correlationId);
        Assert.Equal(9, correlationId);
        Assert.Equal(names, response.Topics.Select(t => t.Name));
        Assert.All(response.Topics, t => Assert.Equal(3, t.ErrorCode));
    }

    [Fact]
    public async Task BytesAfterTheBodyAreIgnoredAsKafkaDoes()
    {
        using var client = new RawClient(node.Server.Port);
        // librdkafka 2.16 sends these three bytes after its Metadata v12 body; the size prefix covers them.
        var bytes = RawClient.Request(3, 12, 21, new MetadataRequest { Topics = null });
        byte[] padded = [.. bytes, 0x01, 0x00, 0x00];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(padded, padded.Length - 4);
        client.Send(padded);
        var frame = await client.ReadFrameAsync();
        Assert.NotNull(frame);
        var response = (MetadataResponse)Eddy.Kafka.Protocol.KafkaFrames.DecodeResponse(frame, 3, 12, out int correlationId);
        Assert.Equal(21, correlationId);
        Assert.Single(response.Brokers);
    }
}
