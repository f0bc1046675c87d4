using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Eddy.Net;

namespace Eddy.Runtime.Tests;

/// <summary>
/// The connections of a shard share its receive buffers (io_uring's provided-buffer ring): a connection whose reader
/// stops while its peer keeps sending must not take them all, or every other connection on the shard stops receiving
/// (in a cluster: heartbeats starved behind a flood of batches, and elections). Its data waits in the kernel instead,
/// and none of it is lost or reordered when the reader goes on.
/// </summary>
public class ReceiveBufferSharingTests
{
    private const int FloodBytes = 16 << 20; // four times the ring

    [Fact]
    public async Task AReaderThatStopsDoesNotStarveTheOtherConnectionsOfItsShard()
    {
        using var scope = new ShardGroupScope(shards: 1);
        var resumeFlood = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var floodRead = new TaskCompletionSource<(int Bytes, byte[] Hash)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TcpServer.StartAsync(scope.Group, new IPEndPoint(IPAddress.Loopback, 0), async connection =>
        {
            var buffer = new byte[64 << 10];
            int first = await connection.ReceiveAsync(buffer.AsMemory(0, 1));
            if (first == 1 && buffer[0] == (byte)'F')
            {
                await resumeFlood.Task; // the reader stops while the peer floods
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                int total = 0;
                while (true)
                {
                    int n = await connection.ReceiveAsync(buffer);
                    if (n <= 0)
                    {
                        break;
                    }
                    hash.AppendData(buffer, 0, n);
                    total += n;
                }
                floodRead.TrySetResult((total, hash.GetHashAndReset()));
                return;
            }
            while (true) // anything else is echoed
            {
                int n = await connection.ReceiveAsync(buffer);
                if (n <= 0)
                {
                    return;
                }
                await connection.SendAsync(buffer.AsMemory(0, n));
            }
        });

        var flood = new byte[FloodBytes];
        new Random(7).NextBytes(flood);
        using var flooder = new TcpClient();
        await flooder.ConnectAsync(IPAddress.Loopback, server.Port);
        var floodStream = flooder.GetStream();
        await floodStream.WriteAsync("F"u8.ToArray());
        var sending = Task.Run(async () =>
        {
            await floodStream.WriteAsync(flood);
            flooder.Client.Shutdown(SocketShutdown.Send);
        });
        await Task.Delay(1000); // the flood fills whatever buffers the server lets it take
        Assert.False(sending.IsCompleted, "precondition: the flood outgrows the buffers of the kernel and the ring, so its sender waits");

        using var other = new TcpClient();
        await other.ConnectAsync(IPAddress.Loopback, server.Port);
        var stream = other.GetStream();
        var message = "Qheartbeat"u8.ToArray();
        await stream.WriteAsync(message);
        var back = new byte[message.Length - 1];
        var echoed = stream.ReadExactlyAsync(back).AsTask();
        Assert.True(await Task.WhenAny(echoed, Task.Delay(TimeSpan.FromSeconds(10))) == echoed,
            "another connection of the shard got no answer while one reader stood still");
        Assert.Equal(message[1..], back);

        resumeFlood.SetResult();
        await sending.WaitAsync(TimeSpan.FromSeconds(30));
        var (bytes, digest) = await floodRead.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(FloodBytes, bytes);
        Assert.Equal(SHA256.HashData(flood), digest);
    }
}
