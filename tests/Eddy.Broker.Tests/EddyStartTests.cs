namespace Eddy.Broker.Tests;

/// <summary>`eddy start` as a child process: it listens for Kafka clients, answers the real client, and stops on SIGINT.</summary>
public sealed class EddyStartTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-start-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    [Fact]
    public async Task EddyStartServesMetadataAndStopsOnSigintClosingIdleConnections()
    {
        ConfluentClientTests.AssertBundledLibrdkafka();
        using var eddy = await EddyProcess.StartAsync("--smp", "2", "--kafka-addr", "127.0.0.1:0", "--advertise-kafka-addr", "localhost:0",
            "--node-id", "3", "--data-dir", _data);
        Assert.Equal(("localhost", eddy.Port), (eddy.AdvertisedHost, eddy.AdvertisedPort));

        using (var admin = ConfluentClientTests.Admin(eddy.Bootstrap))
        {
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(15));
            var broker = Assert.Single(metadata.Brokers);
            Assert.Equal((3, "localhost", eddy.Port), (broker.BrokerId, broker.Host, broker.Port));
            // A fresh node has only its internal offsets topic.
            Assert.Equal(["__consumer_offsets"], metadata.Topics.Select(t => t.Topic));
        }

        // An idle connection open at the signal is closed by the broker, and does not hold up the exit.
        using var idle = new RawClient(eddy.Port);
        await idle.CallAsync<Eddy.Kafka.Protocol.Messages.ApiVersionsResponse>(3, 1, new Eddy.Kafka.Protocol.Messages.ApiVersionsRequest { ClientSoftwareName = "idle", ClientSoftwareVersion = "1" });
        eddy.Signal(2);
        Assert.True(await idle.ClosedByBrokerAsync());
        Assert.Equal(0, await eddy.WaitForExitAsync());
        Assert.Contains("stopped", eddy.Output);
    }
}
