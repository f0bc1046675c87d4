using System.Buffers;
using System.Buffers.Binary;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Native;
using Eddy.Net;
using Eddy.Observability;

namespace Eddy.Kafka.Server;

/// <summary>
/// One client connection, on the shard that accepted it: read size-prefixed frames into one reused buffer,
/// decode each, run its handler, and send the responses in request order. Requests are handled one after
/// another, so order holds by construction; all responses to the frames of one receive go out in one send.
/// Bad input ends this connection only, with one log line.
/// </summary>
internal sealed class KafkaConnection
{
    private const int InitialBufferBytes = 16 * 1024;

    private readonly KafkaServer _server;
    private readonly Connection _connection;
    private readonly long _id;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[] _buffer = [];
    private int _start; // first unconsumed byte in _buffer
    private int _end;   // one past the last received byte
    private bool _idle; // waiting for bytes, with no request in hand
    private string? _clientId;
    private bool _trailingLogged;
    private readonly ResponseScope _scope = new();

    public KafkaConnection(KafkaServer server, Connection connection, long id)
    {
        _server = server;
        _connection = connection;
        _id = id;
    }

    /// <summary>Completes when the loop has ended.</summary>
    public Task Done => _done.Task;

    public void MarkDone() => _done.TrySetResult();

    /// <summary>Node shutdown, on this connection's shard: an idle connection closes now, a busy one after its responses are sent.</summary>
    public void Shutdown()
    {
        if (_idle)
        {
            _connection.Dispose();
        }
    }

    public async Task RunAsync()
    {
        _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        using var responses = new KafkaWriter(InitialBufferBytes);
        try
        {
            while (true)
            {
                MakeRoom();
                int received;
                _idle = true;
                try
                {
                    received = await _connection.ReceiveAsync(_buffer.AsMemory(_end));
                }
                catch (ObjectDisposedException) when (_server.Stopping)
                {
                    return;
                }
                catch (NativeException) when (_server.Stopping)
                {
                    return;
                }
                finally
                {
                    _idle = false;
                }
                if (received == 0)
                {
                    if (_end > _start && !_server.Stopping) // at shutdown the close is ours, not the peer's
                    {
                        Close($"peer closed in the middle of a frame ({_end - _start} bytes unread)");
                    }
                    return;
                }
                _end += received;
                bool keepOpen = await ProcessFramesAsync(responses);
                if (responses.Length > 0)
                {
                    await _connection.SendAsync(responses.WrittenMemory);
                    responses.Reset();
                }
                if (!keepOpen || _server.Stopping)
                {
                    return;
                }
            }
        }
        catch (NativeException e)
        {
            // Resets and broken pipes are how clients leave; not worth more than a debug line.
            Log.Write(LogLevel.Debug, "kafka", $"{Describe()}: {e.Message}");
        }
        catch (Exception e)
        {
            // TcpServer would swallow it: say what happened, once, before the connection closes.
            Log.Error("kafka", $"{Describe()}: connection loop failed, closing: {e}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    /// <summary>Handles every complete frame in the buffer. False when the connection must close.</summary>
    private async ValueTask<bool> ProcessFramesAsync(KafkaWriter responses)
    {
        while (true)
        {
            var pending = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
            ReadOnlySequence<byte> frame;
            try
            {
                if (!KafkaFrames.TryReadFrame(ref pending, out frame, _server.Limits))
                {
                    return true;
                }
            }
            catch (KafkaProtocolException e)
            {
                return Close(e.Message);
            }
            // One array, so the frame is one segment: decoding reads it in place, records fields included.
            _start = _end - (int)pending.Length;
            if (!await HandleFrameAsync(frame.First, responses))
            {
                return false;
            }
        }
    }

    private async ValueTask<bool> HandleFrameAsync(ReadOnlyMemory<byte> frame, KafkaWriter responses)
    {
        KafkaRequest request;
        try
        {
            request = KafkaFrames.DecodeRequest(frame, _server.Limits, out int trailing);
            if (trailing > 0 && !_trailingLogged)
            {
                _trailingLogged = true; // once per connection: a client that does it does it on every request
                Log.Write(LogLevel.Debug, "kafka", $"{Describe()}: ignoring {trailing} bytes after a key {request.Header.RequestApiKey} v{request.Header.RequestApiVersion} body");
            }
        }
        catch (KafkaProtocolException e)
        {
            // KIP-511: a client may open with an ApiVersions newer than ours; it reads a v0 answer with our list and retries.
            if (e.ErrorCode == KafkaErrors.UnsupportedVersion && frame.Length >= 8
                && BinaryPrimitives.ReadInt16BigEndian(frame.Span) == ApiVersionsRequest.ApiKeyValue)
            {
                int correlationId = BinaryPrimitives.ReadInt32BigEndian(frame.Span[4..]);
                KafkaFrames.WriteResponse(responses, correlationId, 0, ApiVersionsHandler.UnsupportedVersionResponse(_server.Handlers));
                return true;
            }
            // Kafka closes the connection too: without a schema for the key and version there is no response to shape.
            return Close(frame.Length >= 4 && e.ErrorCode != KafkaErrors.UnsupportedVersion
                ? $"request key {BinaryPrimitives.ReadInt16BigEndian(frame.Span)} version {BinaryPrimitives.ReadInt16BigEndian(frame.Span[2..])}: {e.Message}"
                : e.Message);
        }
        var header = request.Header;
        _clientId ??= header.ClientId;
        if (!_server.Handlers.TryGet(header.RequestApiKey, header.RequestApiVersion, out var handler))
        {
            if (header.RequestApiKey == ApiVersionsRequest.ApiKeyValue)
            {
                KafkaFrames.WriteResponse(responses, header.CorrelationId, 0, ApiVersionsHandler.UnsupportedVersionResponse(_server.Handlers));
                return true;
            }
            string name = KafkaApis.TryGet(header.RequestApiKey, out var api) ? api.Name : "?";
            return Close($"unsupported API {name} (key {header.RequestApiKey}) version {header.RequestApiVersion}: not advertised");
        }
        try
        {
            var response = await handler.HandleAsync(new RequestContext(header, _server, _scope), request.Body);
            if (response is not null)
            {
                KafkaFrames.WriteResponse(responses, header.CorrelationId, header.RequestApiVersion, response);
            }
            _scope.ReleaseAll();
            return true;
        }
        catch (Exception e)
        {
            _scope.ReleaseAll();
            // A handler or encoder bug: the response may be half written, so nothing more goes out on this connection.
            responses.Reset();
            Log.Error("kafka", $"{Describe()}: {handler.GetType().Name} v{header.RequestApiVersion} failed, closing: {e}");
            return false;
        }
    }

    /// <summary>
    /// Makes room for the next receive: an empty buffer starts over (shrinking after a large frame); a partial frame
    /// moves to the front, and the buffer grows to the frame's validated size once its prefix has arrived.
    /// </summary>
    private void MakeRoom()
    {
        if (_start == _end)
        {
            _start = _end = 0;
            if (_buffer.Length > InitialBufferBytes)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
            }
            return;
        }
        int pending = _end - _start;
        // TryReadFrame has already checked a complete prefix against the limit.
        int needed = pending >= 4 ? 4 + BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_start)) : InitialBufferBytes;
        if (needed > _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(needed);
            _buffer.AsSpan(_start, pending).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
        else if (_start > 0)
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
        }
        _start = 0;
        _end = pending;
    }

    private bool Close(string reason)
    {
        Log.Warn("kafka", $"{Describe()}: closing: {reason}");
        return false;
    }

    private string Describe() => $"connection {_id} (client '{_clientId ?? "?"}')";
}
