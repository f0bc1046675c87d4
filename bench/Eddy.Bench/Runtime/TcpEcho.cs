using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Eddy.Net;
using Eddy.Runtime;
using Eddy.Runtime.IO;

namespace Eddy.Bench.Runtime;

/// <summary>
/// `tcp-echo [seconds]`: 64 connections ping-pong 64 B and 16 KiB messages against three echo servers: Eddy on
/// io_uring, Eddy on epoll (one shard each, pinned to CPU 0), and a plain System.Net.Sockets async server (thread
/// pool). The client is the same for all: one Eddy io_uring shard pinned to CPU 1.
/// </summary>
internal static class TcpEcho
{
    private const int Connections = 64;

    // Pinning helps on an otherwise idle machine and hurts on a shared one (a pinned thread cannot move off a busy core).
    private static readonly bool Pin = Environment.GetEnvironmentVariable("EDDY_BENCH_PIN") != "0";

    public static async Task<int> Run(string[] args)
    {
        int seconds = args.Length > 0 ? int.Parse(args[0]) : 5;
        foreach (int size in new[] { 64, 16 << 10 })
        {
            foreach (string server in new[] { "eddy-io_uring", "eddy-epoll", "system.net.sockets" })
            {
                var (rps, perServerCpuSecond) = await Measure(server, size, seconds);
                Console.WriteLine($"echo {size,6} B  {server,-20} {rps,12:N0} req/s  {perServerCpuSecond,12:N0} req per server CPU-second");
            }
        }
        return 0;
    }

    /// <summary>Requests per second, and requests per CPU-second spent by everything but the client's shard
    /// (on a 2-core machine the client competes with the server, so efficiency says more than throughput).</summary>
    private static async Task<(double PerSecond, double PerServerCpuSecond)> Measure(string server, int size, int seconds)
    {
        await using var host = await EchoHost.StartAsync(server);
        using var client = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1, Backend = IoBackendKind.IoUring, CpuOffset = 1, PinThreads = Pin });
        int clientThread = await client.InvokeAsync(0, () => Eddy.Native.Affinity.CurrentThreadId());
        var process = Process.GetCurrentProcess();
        double cpuBefore = process.TotalProcessorTime.TotalSeconds - ThreadCpuSeconds(clientThread);
        long count = 0;
        var stopAt = Stopwatch.GetTimestamp() + (long)(seconds + 1) * Stopwatch.Frequency;
        long measureFrom = Stopwatch.GetTimestamp() + Stopwatch.Frequency; // 1 s warm-up
        long startCount = 0;
        await client.InvokeAsync(0, async () =>
        {
            var loops = new Task[Connections];
            for (int c = 0; c < Connections; c++)
            {
                loops[c] = PingPong(host.Port, size, stopAt, () =>
                {
                    count++;
                    if (startCount == 0 && Stopwatch.GetTimestamp() >= measureFrom)
                    {
                        startCount = count;
                    }
                });
            }
            await Task.WhenAll(loops);
            return true;
        });
        process.Refresh();
        double serverCpu = process.TotalProcessorTime.TotalSeconds - ThreadCpuSeconds(clientThread) - cpuBefore;
        return ((count - startCount) / (double)seconds, count / serverCpu);
    }

    /// <summary>A thread's user+system CPU time from /proc (fields 14 and 15 of its stat line, in clock ticks).</summary>
    private static double ThreadCpuSeconds(int tid)
    {
        string stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
    }

    private static async Task PingPong(int port, int size, long stopAt, Action onRoundTrip)
    {
        using var connection = await Connection.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        var message = new byte[size];
        var reply = new byte[size];
        while (Stopwatch.GetTimestamp() < stopAt)
        {
            await connection.SendAsync(message);
            int got = 0;
            while (got < size)
            {
                int n = await connection.ReceiveAsync(reply.AsMemory(got));
                if (n == 0)
                {
                    throw new IOException("echo server closed the connection");
                }
                got += n;
            }
            onRoundTrip();
        }
    }

    /// <summary>One of the three echo servers.</summary>
    private sealed class EchoHost : IAsyncDisposable
    {
        private ShardGroup? _group;
        private TcpServer? _eddy;
        private Socket? _listener;

        public int Port { get; private set; }

        public static async Task<EchoHost> StartAsync(string kind)
        {
            var host = new EchoHost();
            if (kind.StartsWith("eddy-", StringComparison.Ordinal))
            {
                var backend = kind == "eddy-epoll" ? IoBackendKind.Epoll : IoBackendKind.IoUring;
                host._group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1, Backend = backend, PinThreads = Pin });
                host._eddy = await TcpServer.StartAsync(host._group, new IPEndPoint(IPAddress.Loopback, 0), EddyEcho);
                host.Port = host._eddy.Port;
            }
            else
            {
                host._listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                host._listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                host._listener.Listen(1024);
                host.Port = ((IPEndPoint)host._listener.LocalEndPoint!).Port;
                _ = SocketsAcceptLoop(host._listener);
            }
            return host;
        }

        private static async ValueTask EddyEcho(Connection connection)
        {
            var buffer = new byte[32 << 10];
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

        private static async Task SocketsAcceptLoop(Socket listener)
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await listener.AcceptAsync();
                }
                catch (Exception)
                {
                    return;
                }
                socket.NoDelay = true;
                _ = SocketsEcho(socket);
            }
        }

        private static async Task SocketsEcho(Socket socket)
        {
            using (socket)
            {
                var buffer = new byte[32 << 10];
                try
                {
                    while (true)
                    {
                        int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
                        if (n == 0)
                        {
                            return;
                        }
                        await socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
                    }
                }
                catch (SocketException)
                {
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_eddy is not null)
            {
                await _eddy.DisposeAsync();
            }
            _group?.Dispose();
            _listener?.Dispose();
        }
    }
}
