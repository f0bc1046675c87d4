using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.TestSupport;

/// <summary>A plain socket that speaks Kafka frames, so tests control every byte the broker sees.</summary>
public sealed class RawClient : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public RawClient(int port)
    {
        _socket.NoDelay = true;
        _socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
    }

    public static byte[] Request(short apiKey, short version, int correlationId, IKafkaMessage body)
    {
        using var w = new KafkaWriter();
        KafkaFrames.WriteRequest(w, new RequestHeader { RequestApiKey = apiKey, RequestApiVersion = version, CorrelationId = correlationId, ClientId = "raw" }, body);
        return w.ToArray();
    }

    public void Send(byte[] bytes) => _socket.Send(bytes);

    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>The next response frame without its size prefix, or null when the broker closed the connection.</summary>
    public async Task<byte[]?> ReadFrameAsync()
    {
        var prefix = new byte[4];
        if (!await ReadExactlyAsync(prefix))
        {
            return null;
        }
        var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(prefix)];
        Assert.True(await ReadExactlyAsync(frame), "connection closed inside a response frame");
        return frame;
    }

    public async Task<T> CallAsync<T>(short version, int correlationId, IKafkaMessage request) where T : IKafkaMessage
    {
        Send(Request(request.ApiKey, version, correlationId, request));
        var frame = await ReadFrameAsync() ?? throw new InvalidOperationException("broker closed the connection");
        var response = KafkaFrames.DecodeResponse(frame, request.ApiKey, version, out int got);
        Assert.Equal(correlationId, got);
        return (T)response;
    }

    /// <summary>True when the broker closes the connection (after any responses) within the timeout.</summary>
    public async Task<bool> ClosedByBrokerAsync()
    {
        try
        {
            while (await ReadFrameAsync() is not null)
            {
            }
            return true;
        }
        catch (SocketException)
        {
            return true; // a reset is a close too
        }
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer)
    {
        using var cts = new CancellationTokenSource(Timeout);
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await _socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cts.Token);
            if (n == 0)
            {
                return false;
            }
            read += n;
        }
        return true;
    }

    public void Dispose() => _socket.Dispose();
}
