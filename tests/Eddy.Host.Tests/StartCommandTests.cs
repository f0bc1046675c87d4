namespace Eddy.Host.Tests;

/// <summary>`eddy start` and `eddy --version` run as a process: shards up, clean stops on signals, bad flags, a Kafka
/// port already in use.</summary>
public sealed class StartCommandTests : IDisposable
{
    // Each start gets a data directory of its own: one left by another run (or another version) is not this test's.
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-start-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    [Theory]
    [InlineData(15)] // SIGTERM
    [InlineData(2)]  // SIGINT
    public async Task StartsShardsAndStopsCleanlyOnSignal(int signal)
    {
        using var eddy = new EddyProcess("start", "--smp", "2", "--data-dir", _data, "--kafka-addr", "127.0.0.1:0", "--rpc-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0");
        await eddy.WaitForOutputAsync("up: 2 shards");
        await eddy.StopAsync(signal);
        Assert.Contains("stopped", eddy.Output);
    }

    [Fact]
    public async Task ForcedEpollBackendIsUsed()
    {
        using var eddy = new EddyProcess("start", "--smp", "1", "--io-backend", "epoll", "--data-dir", _data, "--kafka-addr", "127.0.0.1:0", "--rpc-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0");
        await eddy.WaitForOutputAsync("1 shards on epoll");
        await eddy.StopAsync(15);
    }

    [Theory]
    [InlineData("--no-such-flag", "unknown flag '--no-such-flag'")]
    [InlineData("--smp", "--smp needs a value")]
    [InlineData("--smp=0", "--smp: '0' is not a whole number")]
    [InlineData("--io-backend=kqueue", "--io-backend: unknown I/O backend 'kqueue'")]
    [InlineData("--kafka-addr=nowhere", "--kafka-addr: 'nowhere' is not HOST:PORT")]
    [InlineData("--kafka-max-request-bytes=12", "--kafka-max-request-bytes: '12' is not a whole number")]
    public async Task BadFlagsAreRefusedByName(string flag, string message)
    {
        using var eddy = new EddyProcess("start", flag);
        Assert.Equal(2, await eddy.WaitForExitAsync());
        Assert.Contains(message, eddy.Output);
    }

    [Fact]
    public async Task ASecondNodeOnAKafkaPortInUseIsRefusedAndTheFirstKeepsIt()
    {
        using var first = await EddyProcess.StartAsync("--smp", "2", "--data-dir", _data, "--kafka-addr", "127.0.0.1:0");
        string other = _data + "-second";
        try
        {
            // Every shard listens with SO_REUSEPORT, which would let a second process join the first one's port.
            using var second = new EddyProcess("start", "--smp", "2", "--data-dir", other, "--kafka-addr", $"127.0.0.1:{first.Port}",
                "--rpc-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0");
            Assert.Equal(1, await second.WaitForExitAsync());
            Assert.Contains("could not start", second.Output, StringComparison.Ordinal);
            Assert.Contains($"Kafka listener on 127.0.0.1:{first.Port}", second.Output, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(other))
            {
                Directory.Delete(other, recursive: true);
            }
        }
        using var client = new RawClient(first.Port);
        var versions = await client.CallAsync<Eddy.Kafka.Protocol.Messages.ApiVersionsResponse>(3, 1,
            new Eddy.Kafka.Protocol.Messages.ApiVersionsRequest { ClientSoftwareName = "t", ClientSoftwareVersion = "1" });
        Assert.Equal(0, versions.ErrorCode);
        await first.StopAsync(15);
    }

    [Fact]
    public async Task VersionPrintsTheVersion()
    {
        using var eddy = new EddyProcess("--version");
        Assert.Equal(0, await eddy.WaitForExitAsync());
        Assert.Matches(@"^eddy \d+\.\d+\.\d+", eddy.Output);
    }
}
