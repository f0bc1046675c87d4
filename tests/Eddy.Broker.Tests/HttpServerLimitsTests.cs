using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Eddy.Admin;
using Eddy.Config;
using Eddy.Http;
using Eddy.Runtime;

namespace Eddy.Broker.Tests;

/// <summary>
/// The admin API's HTTP server over time and connections: a client that stops mid-request, or idles on a kept-alive
/// connection, is closed after its timeout, and one past the connection limit gets 503; the server keeps serving new
/// connections after each. Short limits, so the test does not wait out the defaults.
/// </summary>
public sealed class HttpServerLimitsTests : IAsyncLifetime
{
    private static readonly HttpServerOptions Limits = new()
    {
        RequestTimeout = TimeSpan.FromMilliseconds(400), KeepAliveTimeout = TimeSpan.FromMilliseconds(400), MaxConnections = 2,
    };

    private ShardGroup _group = null!;
    private AdminServer _admin = null!;

    public async Task InitializeAsync()
    {
        _group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1, PinThreads = false });
        _admin = await AdminServer.StartAsync(_group, new IPEndPoint(IPAddress.Loopback, 0), new NodeConfig(), "0.0.0-test", Limits);
    }

    public async Task DisposeAsync()
    {
        await _admin.DisposeAsync();
        _group.Stop(TimeSpan.FromSeconds(5));
    }

    private async Task<TcpClient> ConnectAsync()
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _admin.Port);
        return client;
    }

    /// <summary>Reads until the server closes the connection; fails if it has not within 10 s.</summary>
    private static async Task<(string Text, TimeSpan After)> ReadToCloseAsync(TcpClient client)
    {
        var clock = Stopwatch.StartNew();
        using var reader = new StreamReader(client.GetStream(), Encoding.ASCII, leaveOpen: true);
        var read = reader.ReadToEndAsync();
        Assert.True(await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10))) == read, "the server closed the connection");
        return (await read, clock.Elapsed);
    }

    private async Task AnswersReadyAsync()
    {
        using var client = await ConnectAsync();
        await client.GetStream().WriteAsync("GET /v1/status/ready HTTP/1.1\r\nConnection: close\r\n\r\n"u8.ToArray());
        var (text, _) = await ReadToCloseAsync(client);
        Assert.StartsWith("HTTP/1.1 503 ", text, StringComparison.Ordinal); // no node handed over: booting
        Assert.Contains("\"status\":\"booting\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientThatStopsMidRequestIsClosedAfterTheRequestTimeout()
    {
        using var client = await ConnectAsync();
        await client.GetStream().WriteAsync("GET /v1/status/ready HTTP/1.1\r\nHost: x\r\n"u8.ToArray()); // no blank line
        var (text, after) = await ReadToCloseAsync(client);
        Assert.Equal("", text);
        Assert.True(after >= TimeSpan.FromMilliseconds(300), $"closed after {after.TotalMilliseconds:0} ms, before the timeout");
        await AnswersReadyAsync();
    }

    [Fact]
    public async Task AnIdleKeptAliveConnectionIsClosedAfterTheKeepAliveTimeout()
    {
        using var client = await ConnectAsync();
        await client.GetStream().WriteAsync("GET /v1/status/ready HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var (text, _) = await ReadToCloseAsync(client);
        Assert.StartsWith("HTTP/1.1 503 ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Connection: close", text, StringComparison.Ordinal); // kept alive, then closed for idling
        await AnswersReadyAsync();
    }

    [Fact]
    public async Task AConnectionPastTheLimitGets503AndTheNextOneAfterIsServed()
    {
        using var first = await ConnectAsync();
        using var second = await ConnectAsync();
        await Task.Delay(100); // both accepted
        using (var third = await ConnectAsync())
        {
            var (text, _) = await ReadToCloseAsync(third);
            Assert.StartsWith("HTTP/1.1 503 ", text, StringComparison.Ordinal);
            Assert.Contains("at most 2 admin connections", text, StringComparison.Ordinal);
        }
        first.Close();
        second.Close();
        await Task.Delay(200); // their slots freed
        await AnswersReadyAsync();
    }
}
