using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Eddy.Net;

namespace Eddy.Runtime.Tests;

public class TcpEchoTests
{
    private static async ValueTask Echo(Connection connection, ConcurrentBag<int> servedOn)
    {
        servedOn.Add(Shard.Current!.Id);
        var buffer = new byte[16 << 10];
        while (true)
        {
            int n = await connection.ReceiveAsync(buffer);
            if (n == 0)
            {
                return;
            }
            await connection.SendAsync(buffer.AsMemory(0, n));
        }
    }

    [Fact]
    public async Task ManyConnectionsEchoAcrossShards()
    {
        using var scope = new ShardGroupScope(shards: 2);
        var servedOn = new ConcurrentBag<int>();
        await using var server = await TcpServer.StartAsync(scope.Group, new IPEndPoint(IPAddress.Loopback, 0), c => Echo(c, servedOn));
        var clients = Enumerable.Range(0, 64).Select(async i =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, server.Port);
            var stream = client.GetStream();
            var payload = new byte[1000 + i * 500];
            new Random(i).NextBytes(payload);
            await stream.WriteAsync(payload);
            var back = new byte[payload.Length];
            await stream.ReadExactlyAsync(back);
            Assert.Equal(payload, back);
        });
        await Task.WhenAll(clients);
        Assert.Equal(64, servedOn.Count);
        Assert.Equal(2, servedOn.Distinct().Count()); // SO_REUSEPORT spread them (2^-63 chance of a false failure)
    }

    [Fact]
    public async Task LargeTransfersCrossManyReceiveBuffers()
    {
        using var scope = new ShardGroupScope(shards: 1);
        await using var server = await TcpServer.StartAsync(scope.Group, new IPEndPoint(IPAddress.Loopback, 0), c => Echo(c, new ConcurrentBag<int>()));
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, server.Port);
        var stream = client.GetStream();
        var payload = new byte[8 << 20];
        new Random(42).NextBytes(payload);
        var send = stream.WriteAsync(payload).AsTask();
        var back = new byte[payload.Length];
        await stream.ReadExactlyAsync(back);
        await send;
        Assert.True(payload.AsSpan().SequenceEqual(back));
    }

    [Fact]
    public async Task PeersThatResetOrCloseMidMessageDoNotDisturbOthers()
    {
        using var scope = new ShardGroupScope(shards: 2);
        var servedOn = new ConcurrentBag<int>();
        await using var server = await TcpServer.StartAsync(scope.Group, new IPEndPoint(IPAddress.Loopback, 0), c => Echo(c, servedOn));
        for (int i = 0; i < 20; i++)
        {
            var rude = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await rude.ConnectAsync(IPAddress.Loopback, server.Port);
            await rude.SendAsync(new byte[3000]);
            if (i % 2 == 0)
            {
                rude.LingerState = new LingerOption(true, 0); // close sends RST
            }
            rude.Close();
        }
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, server.Port);
        var stream = client.GetStream();
        var message = "still serving"u8.ToArray();
        await stream.WriteAsync(message);
        var back = new byte[message.Length];
        await stream.ReadExactlyAsync(back);
        Assert.Equal(message, back);
    }

    [Fact]
    public async Task ShardCanConnectOutThroughItsReactor()
    {
        using var scope = new ShardGroupScope(shards: 2);
        await using var server = await TcpServer.StartAsync(scope.Group, new IPEndPoint(IPAddress.Loopback, 0), c => Echo(c, new ConcurrentBag<int>()));
        int port = server.Port;
        var echoed = await scope.Group.InvokeAsync(1, async () =>
        {
            using var connection = await Connection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            await connection.SendAsync("ping"u8.ToArray());
            var buffer = new byte[4];
            int got = 0;
            while (got < 4)
            {
                int n = await connection.ReceiveAsync(buffer.AsMemory(got));
                Assert.NotEqual(0, n);
                got += n;
            }
            return System.Text.Encoding.ASCII.GetString(buffer);
        });
        Assert.Equal("ping", echoed);
    }

    [Fact]
    public async Task ConnectToAClosedPortFailsWithErrno()
    {
        using var scope = new ShardGroupScope(shards: 1);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var error = await scope.Group.InvokeAsync(0, async () =>
        {
            try
            {
                using var c = await Connection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                return "connected";
            }
            catch (Native.NativeException e)
            {
                return e.Message;
            }
        });
        Assert.Contains("ECONNREFUSED", error);
        Assert.Contains("connect", error);
    }
}
