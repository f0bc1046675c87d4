using System.Net;
using System.Net.Sockets;

namespace Eddy.Host.Tests;

/// <summary>`eddy start` run as a process with eddy.yaml, EDDY_* variables and flags.</summary>
public sealed class ConfigFileStartTests : IDisposable
{
    private readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // A port nothing listens on right now (the kernel's pick; released before eddy binds it).
    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Fact]
    public async Task ListensWhereTheConfigFileSays()
    {
        int port = FreePort();
        string data = Path.Combine(_dir.Path, "data");
        string file = _dir.Write("node.yaml", $"""
            # a node for the test
            kafka_addr: 127.0.0.1:{port}
            advertise_kafka_addr: broker.test:{port}
            data_dir: {data}
            rpc_addr: 127.0.0.1:0
            admin_addr: 127.0.0.1:0
            smp: 1
            """);
        using var eddy = new EddyProcess("start", "--config", file);
        await eddy.WaitForOutputAsync("up: 1 shards");
        Assert.Contains($"settings read from {file}", eddy.Output);
        Assert.Contains($"listening on 127.0.0.1:{port}, advertised as broker.test:{port}", eddy.Output);
        Assert.Contains($"data in {data}", eddy.Output);
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
        }
        await eddy.StopAsync(15);
    }

    [Fact]
    public async Task EddyYamlInTheWorkingDirectoryIsReadAndVariablesAndFlagsOverrideIt()
    {
        int port = FreePort();
        _dir.Write("eddy.yaml", "kafka_addr: 127.0.0.1:1\nsmp: 1\nnode_id: 3\nio_backend: io_uring\n");
        using var eddy = new EddyProcess(["start", "--io-backend", "epoll"],
            new Dictionary<string, string> { ["EDDY_KAFKA_ADDR"] = $"127.0.0.1:{port}", ["EDDY_NODE_ID"] = "4", ["EDDY_RPC_ADDR"] = "127.0.0.1:0", ["EDDY_ADMIN_ADDR"] = "127.0.0.1:0" }, _dir.Path);
        await eddy.WaitForOutputAsync("up: 1 shards on epoll");
        Assert.Contains("node 4 up", eddy.Output);
        Assert.Contains($"listening on 127.0.0.1:{port}", eddy.Output);
        Assert.Contains($"data in {Path.Combine(_dir.Path, "eddy-data")}", eddy.Output); // the default, relative to the working directory
        await eddy.StopAsync(15);
    }

    [Fact]
    public async Task AMissingConfigFileStopsTheStartWithAClearMessage()
    {
        using var eddy = new EddyProcess(["start", "--config", "missing.yaml"], null, _dir.Path);
        Assert.Equal(2, await eddy.WaitForExitAsync());
        Assert.Contains("eddy start: --config: 'missing.yaml': no such file", eddy.Output);
        Assert.DoesNotContain("up:", eddy.Output);
    }

    [Fact]
    public async Task EveryBadSettingIsNamedBeforeAnythingStarts()
    {
        _dir.Write("eddy.yaml", "smp: 2\nkafka_adr: 127.0.0.1:9092\nsmp: 3\n");
        using var eddy = new EddyProcess(["start", "--log-level=loud"], new Dictionary<string, string> { ["EDDY_DATA_DIRR"] = "/tmp" }, _dir.Path);
        Assert.Equal(2, await eddy.WaitForExitAsync());
        string output = eddy.Output;
        Assert.Contains("eddy start: EDDY_DATA_DIRR: unknown variable", output);
        Assert.Contains("eddy start: eddy.yaml:2: unknown key 'kafka_adr'", output);
        Assert.Contains("eddy start: eddy.yaml:3: smp: set twice (first at line 1)", output);
        Assert.Contains("eddy start: --log-level: unknown log level 'loud'", output);
        Assert.DoesNotContain("up:", output);
    }

    [Fact]
    public async Task HelpListsEveryFlag()
    {
        using var eddy = new EddyProcess("start", "--help");
        Assert.Equal(0, await eddy.WaitForExitAsync());
        foreach (var property in Eddy.Config.NodeProperties.All)
        {
            Assert.Contains(property.Flag, eddy.Output);
        }
    }
}
