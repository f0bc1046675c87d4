using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Broker.Tests;

/// <summary>ApiVersions over a raw socket: the advertised list, the header v0 rule, and KIP-511's answer to a newer version.</summary>
public class ApiVersionsTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    private void AssertAdvertisesExactlyWhatIsServed(ApiVersionsResponse response)
    {
        var keys = response.ApiKeys.Select(k => ((int)k.ApiKey, (int)k.MinVersion, (int)k.MaxVersion)).ToList();
        Assert.Equal(node.Server.Handlers.Advertised.Select(k => ((int)k.ApiKey, (int)k.MinVersion, (int)k.MaxVersion)), keys);
        // Keys ascend, each once; and the ones clients rely on are there with the versions the issue names.
        Assert.Equal(keys.Select(k => k.Item1).Distinct().Order(), keys.Select(k => k.Item1));
        Assert.Contains((0, 0, 11), keys);  // Produce: min 0 for librdkafka
        Assert.Contains((1, 4, 12), keys);  // Fetch
        Assert.Contains((3, 0, 12), keys);  // Metadata
        Assert.Contains((18, 0, 4), keys);  // ApiVersions
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task ListsTheServedApis(short version)
    {
        using var client = new RawClient(node.Server.Port);
        var response = await client.CallAsync<ApiVersionsResponse>(version, 11, new ApiVersionsRequest { ClientSoftwareName = "eddy-tests", ClientSoftwareVersion = "1.0" });
        Assert.Equal(0, response.ErrorCode);
        AssertAdvertisesExactlyWhatIsServed(response);
    }

    [Fact]
    public async Task V3ResponseUsesHeaderV0()
    {
        using var client = new RawClient(node.Server.Port);
        client.Send(RawClient.Request(18, 3, 1234, new ApiVersionsRequest { ClientSoftwareName = "eddy-tests", ClientSoftwareVersion = "1.0" }));
        var frame = await client.ReadFrameAsync();
        Assert.NotNull(frame);
        Assert.Equal(1234, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(frame));
        // Header v0 is the correlation id alone: the body's int16 error code follows at once, then the compact
        // array length (entries + 1). With header v1 an empty tag buffer would shift both by one byte.
        Assert.Equal([0, 0, (byte)(node.Server.Handlers.Advertised.Count + 1)], frame[4..7]);
        var decoded = (ApiVersionsResponse)KafkaFrames.DecodeResponse(frame, 18, 3, out _);
        AssertAdvertisesExactlyWhatIsServed(decoded);
    }

    [Fact]
    public async Task InvalidClientSoftwareNameIsInvalidRequest()
    {
        using var client = new RawClient(node.Server.Port);
        var response = await client.CallAsync<ApiVersionsResponse>(3, 5, new ApiVersionsRequest { ClientSoftwareName = "bad name!", ClientSoftwareVersion = "1.0" });
        Assert.Equal(42, response.ErrorCode);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(99)]
    [InlineData(short.MaxValue)]
    public async Task NewerVersionGetsUnsupportedVersionInV0WithTheList(short version)
    {
        using var client = new RawClient(node.Server.Port);
        // Encode a v3 body under a newer version number, as a newer client would send.
        var bytes = RawClient.Request(18, 3, 77, new ApiVersionsRequest { ClientSoftwareName = "future", ClientSoftwareVersion = "9.9" });
        System.Buffers.Binary.BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(6), version);
        client.Send(bytes);
        var frame = await client.ReadFrameAsync();
        Assert.NotNull(frame);
        var response = (ApiVersionsResponse)KafkaFrames.DecodeResponse(frame, 18, 0, out int correlationId);
        Assert.Equal(77, correlationId);
        Assert.Equal(35, response.ErrorCode);
        AssertAdvertisesExactlyWhatIsServed(response);
        // The connection stays usable: the client retries with a version from the list.
        var retry = await client.CallAsync<ApiVersionsResponse>(3, 78, new ApiVersionsRequest { ClientSoftwareName = "future", ClientSoftwareVersion = "9.9" });
        Assert.Equal(0, retry.ErrorCode);
    }
}
