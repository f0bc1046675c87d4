using System.Buffers;
using System.Buffers.Binary;
using Eddy.Errors;
using Eddy.Kafka.Protocol;
using Eddy.Kafka.Protocol.Messages;
using Eddy.Native;
using Eddy.Net;
using Eddy.Observability;

namespace Eddy.Kafka.Server;

/// <summary>
/// One client connection, on the shard that accepted it. The receive side reads size-prefixed frames, decodes
/// each in place and starts its handler at once, so the requests of one connection run concurrently (up to
/// <see cref="MaxInFlight"/>); the send side (<c>KafkaConnection.Send.cs</c>) writes the responses strictly in
/// request order, each as soon as it and all before it are done, batching those that are ready into one send.
/// Bad input ends this connection only, after the responses to the requests before it, with one log line.
/// </summary>
internal sealed partial class KafkaConnection
{
    private const int InitialBufferBytes = 16 * 1024;

    /// <summary>Smallest free space worth a receive behind frames still in flight; less moves to a new buffer.</summary>
    private const int MinReceiveBytes = 4 * 1024;

    /// <summary>Requests of one connection being handled at once; the connection reads no more until one is answered.</summary>
    public const int MaxInFlight = 64;

    private readonly KafkaServer _server;
    private readonly Connection _connection;
    private readonly long _id;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<PendingResponse> _pending = new();
    private readonly string _clientHost;
    private ReceiveBuffer _buffer = null!;
    private int _start; // first unconsumed byte in _buffer
    private int _end;   // one past the last received byte
    private bool _receiving; // waiting for bytes
    private bool _receiverDone; // no more requests will be queued
    private string? _clientId;
    private bool _trailingLogged;

    public KafkaConnection(KafkaServer server, Connection connection, long id)
    {
        _server = server;
        _connection = connection;
        _id = id;
        // Kafka's form (InetAddress.toString() of an address without a name): what group tools show as the host.
        _clientHost = connection.RemoteEndPoint is { } peer ? "/" + peer.Address : "";
    }

    /// <summary>Completes when the loop has ended.</summary>
    public Task Done => _done.Task;

    public void MarkDone() => _done.TrySetResult();

    /// <summary>Node shutdown, on this connection's shard: an idle connection closes now, a busy one after its responses are sent.</summary>
    public void Shutdown()
    {
        if (_receiving && _pending.Count == 0)
        {
            _connection.Dispose();
        }
    }

    public async Task RunAsync()
    {
        _buffer = new ReceiveBuffer(InitialBufferBytes);
        var sender = SendLoopAsync();
        try
        {
            while (!_receiverDone)
            {
                DispatchFrames();
                if (_receiverDone)
                {
                    break;
                }
                if (_pending.Count >= MaxInFlight)
                {
                    await WaitForRoomAsync();
                    continue;
                }
                MakeRoom();
                int received;
                _receiving = true;
                try
                {
                    received = await _connection.ReceiveAsync(_buffer.Array.AsMemory(_end));
                }
                catch (ObjectDisposedException) when (_server.Stopping || _closed)
                {
                    break;
                }
                catch (NativeException) when (_server.Stopping || _closed)
                {
                    break;
                }
                finally
                {
                    _receiving = false;
                }
                if (received == 0)
                {
                    if (_end > _start && !_server.Stopping) // at shutdown the close is ours, not the peer's
                    {
                        Log.Warn("kafka", $"{Describe()}: closing: peer closed in the middle of a frame ({_end - _start} bytes unread)");
                    }
                    break;
                }
                _end += received;
                if (_server.Stopping)
                {
                    // Answer what has arrived, read no more.
                    DispatchFrames();
                    break;
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
            _receiverDone = true;
            WakeSender();
            await sender;
            _buffer.Release();
        }
    }

    /// <summary>Starts a handler for every complete frame in the buffer, up to the in-flight limit, then wakes the
    /// sender once: the responses of one receive that are ready together go out in one send.</summary>
    private void DispatchFrames()
    {
        StartHandlers();
        WakeSender();
    }

    private void StartHandlers()
    {
        while (!_receiverDone && _pending.Count < MaxInFlight)
        {
            var pending = new ReadOnlySequence<byte>(_buffer.Array, _start, _end - _start);
            ReadOnlySequence<byte> frame;
            try
            {
                if (!KafkaFrames.TryReadFrame(ref pending, out frame, _server.Limits))
                {
                    return;
                }
            }
            catch (KafkaProtocolException e)
            {
                CloseAfterPending(e.Message);
                return;
            }
            // One array, so the frame is one segment: decoding reads it in place, records fields included.
            _start = _end - (int)pending.Length;
            Dispatch(frame.First);
        }
    }

    private void Dispatch(ReadOnlyMemory<byte> frame)
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
                Enqueue(new PendingResponse
                {
                    Immediate = ApiVersionsHandler.UnsupportedVersionResponse(_server.Handlers),
                    ImmediateCorrelationId = BinaryPrimitives.ReadInt32BigEndian(frame.Span[4..]),
                });
                return;
            }
            // Kafka closes the connection too: without a schema for the key and version there is no response to shape.
            CloseAfterPending(frame.Length >= 4 && e.ErrorCode != KafkaErrors.UnsupportedVersion
                ? $"request key {BinaryPrimitives.ReadInt16BigEndian(frame.Span)} version {BinaryPrimitives.ReadInt16BigEndian(frame.Span[2..])}: {e.Message}"
                : e.Message);
            return;
        }
        var header = request.Header;
        _clientId ??= header.ClientId;
        if (!_server.Handlers.TryGet(header.RequestApiKey, header.RequestApiVersion, out var handler))
        {
            if (header.RequestApiKey == ApiVersionsRequest.ApiKeyValue)
            {
                Enqueue(new PendingResponse { Immediate = ApiVersionsHandler.UnsupportedVersionResponse(_server.Handlers), ImmediateCorrelationId = header.CorrelationId });
                return;
            }
            string name = KafkaApis.TryGet(header.RequestApiKey, out var api) ? api.Name : "?";
            CloseAfterPending($"unsupported API {name} (key {header.RequestApiKey}) version {header.RequestApiVersion}: not advertised");
            return;
        }
        _buffer.Acquire();
        var entry = new PendingResponse { Header = header, Handler = handler, Buffer = _buffer };
        entry.Start(() => handler.HandleAsync(new RequestContext(header, _server, entry.Scope, _clientHost), request.Body));
        Enqueue(entry);
    }

    /// <summary>Stops reading: the connection closes once the requests before this point are answered.</summary>
    private void CloseAfterPending(string reason)
    {
        Enqueue(new PendingResponse { CloseReason = reason });
        _receiverDone = true;
    }

    /// <summary>
    /// Makes room for the next receive. With no request reading the buffer, an empty buffer starts over (shrinking
    /// after a large frame) and a partial frame moves to the front, the buffer growing to the frame's validated size
    /// once its prefix has arrived. While requests still read it, nothing in it may move: the next bytes go behind
    /// them if enough room is left, else the partial frame moves to a fresh buffer and the old one is returned when
    /// its last request is answered.
    /// </summary>
    private void MakeRoom()
    {
        int pending = _end - _start;
        // TryReadFrame has already checked a complete prefix against the limit.
        int needed = pending >= 4 ? 4 + BinaryPrimitives.ReadInt32BigEndian(_buffer.Array.AsSpan(_start)) : InitialBufferBytes;
        if (_buffer.InUse)
        {
            // Room for the rest of the frame whose size is known, and at least MinReceiveBytes in any case (not a
            // whole initial buffer when no prefix has arrived: that would move on at almost every receive).
            int more = pending >= 4 ? needed - pending : 0;
            if (_buffer.Array.Length - _end >= Math.Max(more, MinReceiveBytes))
            {
                return;
            }
            MoveTo(new ReceiveBuffer(Math.Max(needed, InitialBufferBytes)));
            return;
        }
        if (pending == 0)
        {
            _start = _end = 0;
            if (_buffer.Array.Length > InitialBufferBytes)
            {
                MoveTo(new ReceiveBuffer(InitialBufferBytes));
            }
            return;
        }
        if (needed > _buffer.Array.Length)
        {
            MoveTo(new ReceiveBuffer(needed));
        }
        else if (_start > 0)
        {
            _buffer.Array.AsSpan(_start, pending).CopyTo(_buffer.Array);
            _start = 0;
            _end = pending;
        }
    }

    private void MoveTo(ReceiveBuffer next)
    {
        int pending = _end - _start;
        _buffer.Array.AsSpan(_start, pending).CopyTo(next.Array);
        _buffer.Release();
        _buffer = next;
        _start = 0;
        _end = pending;
    }

    private string Describe() => $"connection {_id} (client '{_clientId ?? "?"}')";
}
