using System.Net;
using Eddy.Cluster.Producers;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Kafka.Server;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Broker.Tests;

/// <summary>InitProducerId over a raw socket against a node whose allocator keeps its blocks in the metadata store on shard 0.</summary>
public sealed class InitProducerIdTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("eddy-initpid-").FullName;
    private InProcessNode _node = null!;

    public async Task InitializeAsync() => _node = await InProcessNode.StartAsync(_root);

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task IdempotentProducerGetsAFreshIdAtEpochZero(short version)
    {
        var ids = new HashSet<long>();
        // Several connections, so that requests arrive on both shards and cross to the allocator on shard 0.
        for (int c = 0; c < 6; c++)
        {
            using var client = new RawClient(_node.Server.Port);
            for (int i = 0; i < 5; i++)
            {
                var response = await client.CallAsync<InitProducerIdResponse>(version, i, new InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = -1 });
                Assert.Equal((0, (short)0), ((int)response.ErrorCode, response.ProducerEpoch));
                Assert.True(response.ProducerId >= 0);
                Assert.True(ids.Add(response.ProducerId), $"id {response.ProducerId} handed out twice");
            }
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task EpochBumpRequestOfIdempotentProducerGetsANewId(short version)
    {
        // Kafka: without a transactional id the request is "blindly accepted" with a new id and epoch 0, whatever
        // ProducerId/ProducerEpoch it carries (librdkafka sends them after an unrecoverable sequence error).
        using var client = new RawClient(_node.Server.Port);
        var first = await client.CallAsync<InitProducerIdResponse>(version, 1, new InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = -1 });
        var bump = await client.CallAsync<InitProducerIdResponse>(version, 2, new InitProducerIdRequest
        {
            TransactionalId = null,
            TransactionTimeoutMs = -1,
            ProducerId = first.ProducerId,
            ProducerEpoch = first.ProducerEpoch,
        });
        Assert.Equal(0, bump.ErrorCode);
        Assert.NotEqual(first.ProducerId, bump.ProducerId);
        Assert.Equal(0, bump.ProducerEpoch);
    }

    [Theory]
    [InlineData(0, "tx-app", 53)] // transactions are not served: TRANSACTIONAL_ID_AUTHORIZATION_FAILED, fatal to clients
    [InlineData(4, "tx-app", 53)]
    [InlineData(5, "tx-app", 53)]
    [InlineData(0, "", 42)]       // an empty transactional id: INVALID_REQUEST, as Kafka answers
    [InlineData(5, "", 42)]
    public async Task TransactionalIdIsRefused(short version, string transactionalId, short error)
    {
        using var client = new RawClient(_node.Server.Port);
        var response = await client.CallAsync<InitProducerIdResponse>(version, 9, new InitProducerIdRequest { TransactionalId = transactionalId, TransactionTimeoutMs = 60_000 });
        Assert.Equal((error, -1L, (short)-1), (response.ErrorCode, response.ProducerId, response.ProducerEpoch));
    }

    [Fact]
    public async Task ApiVersionsAdvertisesV0ToV5()
    {
        using var client = new RawClient(_node.Server.Port);
        var response = await client.CallAsync<ApiVersionsResponse>(3, 1, new ApiVersionsRequest { ClientSoftwareName = "eddy-tests", ClientSoftwareVersion = "1.0" });
        var key = Assert.Single(response.ApiKeys, k => k.ApiKey == InitProducerIdRequest.ApiKeyValue);
        Assert.Equal((0, 5), (key.MinVersion, key.MaxVersion));
    }

    [Fact]
    public async Task IdsAreNotReusedAfterARestart()
    {
        var before = new List<long>();
        using (var client = new RawClient(_node.Server.Port))
        {
            for (int i = 0; i < 20; i++)
            {
                before.Add((await client.CallAsync<InitProducerIdResponse>(4, i, new InitProducerIdRequest { TransactionalId = null })).ProducerId);
            }
        }
        await _node.DisposeAsync();
        _node = await InProcessNode.StartAsync(_root);
        using (var client = new RawClient(_node.Server.Port))
        {
            var after = await client.CallAsync<InitProducerIdResponse>(4, 1, new InitProducerIdRequest { TransactionalId = null });
            Assert.Equal(0, after.ErrorCode);
            Assert.True(after.ProducerId > before.Max(), $"{after.ProducerId} after a restart, {before.Max()} before");
        }
    }
}
