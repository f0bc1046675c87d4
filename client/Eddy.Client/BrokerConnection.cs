using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;

namespace Eddy.Client;

/// <summary>
/// One TCP connection to one broker. Requests are pipelined: each is written in turn under a lock and its answer is
/// awaited; a broker answers a connection's requests in the order they came, so one reader hands each response frame
/// to the oldest waiting request. The versions of every API are agreed once, by ApiVersions, when it connects.
/// Any failure (a broken socket, a response that does not decode, a request past its timeout) closes the connection
/// and fails every request waiting on it: the caller connects again.
/// </summary>
public sealed class BrokerConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly string _clientId;
    private readonly TimeSpan _requestTimeout;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentQueue<Pending> _pending = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly KafkaWriter _writer = new(64 << 10);
    private ApiVersionTable _versions = ApiVersionTable.BeforeHandshake;
    private Task _reader = Task.CompletedTask;
    private Exception? _failure;
    private int _correlation;

    private BrokerConnection(Socket socket, string endpoint, string clientId, TimeSpan requestTimeout)
    {
        _socket = socket;
        Endpoint = endpoint;
        _clientId = clientId;
        _requestTimeout = requestTimeout;
    }

    /// <summary>host:port, for messages.</summary>
    public string Endpoint { get; }

    public bool IsBroken => _failure is not null;

    /// <summary>Connects and agrees on versions; a broker that cannot be reached or answers no ApiVersions throws
    /// <see cref="KafkaConnectionException"/>.</summary>
    public static async Task<BrokerConnection> ConnectAsync(string host, int port, KafkaClientOptions options, CancellationToken cancel)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        string endpoint = $"{host}:{port}";
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(options.ConnectTimeout);
            await socket.ConnectAsync(host, port, timeout.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancel.IsCancellationRequested)
        {
            socket.Dispose();
            throw new KafkaConnectionException($"cannot connect to {endpoint}: {(e is SocketException s ? s.SocketErrorCode.ToString() : "timed out")}", e);
        }
        var connection = new BrokerConnection(socket, endpoint, options.ClientId, options.RequestTimeout);
        connection._reader = Task.Run(connection.ReadLoopAsync, CancellationToken.None);
        try
        {
            var versions = await connection.SendAsync<ApiVersionsResponse>(
                new ApiVersionsRequest { ClientSoftwareName = "eddy", ClientSoftwareVersion = "1" }, cancel);
            KafkaException.ThrowIfError($"ApiVersions from {endpoint}", versions.ErrorCode);
            connection._versions = ApiVersionTable.From(versions);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        return connection;
    }

    /// <summary>Whether the broker serves <paramref name="apiKey"/> at a version this client speaks.</summary>
    public bool Supports(short apiKey) => _versions.TryAgree(apiKey, out _);

    /// <summary>Sends <paramref name="request"/> at the highest version both sides speak and returns its answer.</summary>
    public async Task<TResponse> SendAsync<TResponse>(IKafkaMessage request, CancellationToken cancel = default) where TResponse : IKafkaMessage
    {
        var pending = await WriteAsync(request, expectsResponse: true, cancel);
        return await AnswerAsync<TResponse>(pending!, request.ApiKey, cancel);
    }

    private async Task<TResponse> AnswerAsync<TResponse>(Pending pending, short apiKey, CancellationToken cancel) where TResponse : IKafkaMessage
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(_requestTimeout);
        try
        {
            return (TResponse)await pending.Answer.Task.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            // The answer may still come, but every later one on this connection would then be taken for its successor's.
            Fail(new KafkaConnectionException($"{Endpoint} did not answer {ApiVersionTable.NameOf(apiKey)} within {_requestTimeout.TotalSeconds:0.#} s"));
            throw _failure!;
        }
    }

    /// <summary>Writes <paramref name="request"/> and returns once it is on the socket, with the task of its answer:
    /// a caller that must keep its requests in order (a producer's batches of one partition) awaits each write before
    /// the next, and the answers after.</summary>
    public async Task<Task<TResponse>> WritePipelinedAsync<TResponse>(IKafkaMessage request, CancellationToken cancel = default) where TResponse : IKafkaMessage
    {
        var pending = await WriteAsync(request, expectsResponse: true, cancel);
        return AnswerAsync<TResponse>(pending!, request.ApiKey, cancel);
    }

    /// <summary>Sends a request the broker does not answer (Produce with acks=0).</summary>
    public Task SendWithoutResponseAsync(IKafkaMessage request, CancellationToken cancel = default) => WriteAsync(request, expectsResponse: false, cancel);

    private async Task<Pending?> WriteAsync(IKafkaMessage request, bool expectsResponse, CancellationToken cancel)
    {
        // ApiVersions goes first, before anything is agreed, at the version every broker of Kafka 2.4 or later serves.
        short version = 3;
        if (request.ApiKey != ApiVersionsRequest.ApiKeyValue && !_versions.TryAgree(request.ApiKey, out version))
        {
            throw new KafkaException(Eddy.Errors.KafkaErrors.UnsupportedVersion,
                $"{Endpoint} serves no version of {ApiVersionTable.NameOf(request.ApiKey)} that this client speaks");
        }
        await _sendLock.WaitAsync(cancel);
        try
        {
            ThrowIfBroken();
            int correlation = ++_correlation;
            _writer.Reset();
            KafkaFrames.WriteRequest(_writer, new RequestHeader
            {
                RequestApiKey = request.ApiKey, RequestApiVersion = version, CorrelationId = correlation, ClientId = _clientId,
            }, request);
            Pending? pending = null;
            if (expectsResponse)
            {
                pending = new Pending(correlation, request.ApiKey, version);
                _pending.Enqueue(pending);
            }
            try
            {
                await _socket.SendAsync(_writer.WrittenMemory, SocketFlags.None, _closed.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                Fail(new KafkaConnectionException($"connection to {Endpoint} broke while sending", e));
                ThrowIfBroken();
            }
            return pending;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var prefix = new byte[4];
        try
        {
            while (true)
            {
                if (!await ReadExactlyAsync(prefix))
                {
                    Fail(new KafkaConnectionException($"{Endpoint} closed the connection"));
                    return;
                }
                int size = BinaryPrimitives.ReadInt32BigEndian(prefix);
                if (size < 4 || size > ProtocolLimits.Default.MaxFrameBytes)
                {
                    Fail(new KafkaConnectionException($"{Endpoint} sent a response frame of {size} bytes"));
                    return;
                }
                var frame = new byte[size];
                if (!await ReadExactlyAsync(frame))
                {
                    Fail(new KafkaConnectionException($"{Endpoint} closed the connection inside a response"));
                    return;
                }
                if (!_pending.TryDequeue(out var pending))
                {
                    Fail(new KafkaConnectionException($"{Endpoint} sent a response no request waits for"));
                    return;
                }
                IKafkaMessage response;
                try
                {
                    response = KafkaFrames.DecodeResponse(frame, pending.ApiKey, pending.Version, out int correlation);
                    if (correlation != pending.Correlation)
                    {
                        throw new KafkaProtocolException($"correlation id {correlation}, expected {pending.Correlation}", 0);
                    }
                }
                catch (KafkaProtocolException e)
                {
                    var failure = new KafkaConnectionException($"{Endpoint} sent a {ApiVersionTable.NameOf(pending.ApiKey)} response that does not decode: {e.Message}", e);
                    pending.Answer.TrySetException(failure);
                    Fail(failure);
                    return;
                }
                pending.Answer.TrySetResult(response);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Fail(new KafkaConnectionException($"connection to {Endpoint} broke: {(e as SocketException)?.SocketErrorCode.ToString() ?? "closed"}", e));
        }
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await _socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, _closed.Token);
            if (n == 0)
            {
                return false;
            }
            read += n;
        }
        return true;
    }

    private void Fail(Exception failure)
    {
        Interlocked.CompareExchange(ref _failure, failure, null);
        _closed.Cancel();
        _socket.Dispose();
        while (_pending.TryDequeue(out var pending))
        {
            pending.Answer.TrySetException(_failure);
        }
    }

    private void ThrowIfBroken()
    {
        if (_failure is not null)
        {
            throw _failure as KafkaConnectionException ?? new KafkaConnectionException(_failure.Message, _failure);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Fail(new KafkaConnectionException($"connection to {Endpoint} closed by the client"));
        try
        {
            await _reader;
        }
        catch (Exception)
        {
            // The reader ends with the socket; how it ended was already recorded.
        }
        _writer.Dispose();
    }

    private sealed record Pending(int Correlation, short ApiKey, short Version)
    {
        public TaskCompletionSource<IKafkaMessage> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
