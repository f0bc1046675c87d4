using System.Buffers.Binary;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Broker.Tests;

/// <summary>
/// Raw sockets send what no client should: each gets an error response or a closed connection, while a real
/// client and an older raw connection keep being served.
/// </summary>
public class BadInputTests(BrokerFixture node) : IClassFixture<BrokerFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private static byte[] Prefix(int size)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, size);
        return bytes;
    }

    private static byte[] Frame(byte[] body) => [.. Prefix(body.Length), .. body];

    private static byte[] ValidMetadata() => RawClient.Request(3, 12, 1, new MetadataRequest { Topics = null });

    public static TheoryData<string> Cases => ["truncated-eof", "truncated-body", "huge-length", "negative-length", "unknown-key", "unsupported-metadata-version", "garbage", "header-only"];

    internal static byte[] BadBytes(string name) => name switch
    {
        // A prefix promising 100 bytes, 10 sent, then the client stops writing.
        "truncated-eof" => [.. Prefix(100), .. new byte[10]],
        // A whole frame whose Metadata body stops half way.
        "truncated-body" => Frame(ValidMetadata()[4..^3]),
        "huge-length" => Prefix(BrokerFixture.MaxRequestBytes + 1),
        "negative-length" => Prefix(-5),
        // Key 999 with a plausible v1 header.
        "unknown-key" => Frame([0x03, 0xE7, 0, 0, 0, 0, 0, 9, 0, 0]),
        // Metadata v13 is in the codec but not advertised.
        "unsupported-metadata-version" => RawClient.Request(3, 13, 2, new MetadataRequest { Topics = null }),
        "garbage" => Garbage(),
        // Only a key and version: the correlation id is missing.
        "header-only" => Frame([0, 3, 0, 1]),
        _ => throw new ArgumentException(name),
    };

    private static byte[] Garbage()
    {
        // A small plausible length so the broker must look inside, then noise.
        var bytes = new byte[300];
        new Random(42).NextBytes(bytes);
        BinaryPrimitives.WriteInt32BigEndian(bytes, bytes.Length - 4);
        return bytes;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BadInputClosesOnlyItsConnection(string name)
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        using var admin = ConfluentClientTests.Admin(node.Bootstrap);
        Assert.Single(admin.GetMetadata(Timeout).Brokers);
        using var bystander = new RawClient(node.Server.Port);
        await bystander.CallAsync<ApiVersionsResponse>(3, 1, new ApiVersionsRequest { ClientSoftwareName = "a", ClientSoftwareVersion = "1" });

        using (var bad = new RawClient(node.Server.Port))
        {
            bad.Send(BadBytes(name));
            if (name == "truncated-eof")
            {
                bad.ShutdownSend();
            }
            Assert.True(await bad.ClosedByBrokerAsync(), $"{name}: the broker kept the connection open");
        }

        // Both other connections still work, and a new client connects.
        await bystander.CallAsync<ApiVersionsResponse>(3, 2, new ApiVersionsRequest { ClientSoftwareName = "a", ClientSoftwareVersion = "1" });
        Assert.Equal(BrokerFixture.NodeId, Assert.Single(admin.GetMetadata(Timeout).Brokers).BrokerId);
        using var fresh = new RawClient(node.Server.Port);
        await fresh.CallAsync<MetadataResponse>(12, 3, new MetadataRequest { Topics = null });
    }

    [Fact]
    public async Task GoodResponsesBeforeABadFrameAreStillSent()
    {
        using var client = new RawClient(node.Server.Port);
        client.Send([.. ValidMetadata(), .. Prefix(-1)]);
        var frame = await client.ReadFrameAsync();
        Assert.NotNull(frame);
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(frame));
        Assert.True(await client.ClosedByBrokerAsync());
    }

    [Fact]
    public async Task AFrameOfExactlyTheLimitIsServed()
    {
        using var client = new RawClient(node.Server.Port);
        // A valid Metadata request padded (bytes after the body are ignored) to exactly the configured maximum.
        var request = ValidMetadata();
        var frame = new byte[4 + BrokerFixture.MaxRequestBytes];
        request.CopyTo(frame, 0);
        BinaryPrimitives.WriteInt32BigEndian(frame, BrokerFixture.MaxRequestBytes);
        client.Send(frame);
        var response = await client.ReadFrameAsync();
        Assert.NotNull(response);
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(response));
        // And the connection is still good for small requests after its buffer grew and shrank.
        await client.CallAsync<MetadataResponse>(12, 2, new MetadataRequest { Topics = null });
    }
}
