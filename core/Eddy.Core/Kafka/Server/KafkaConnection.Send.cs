using Eddy.Kafka.Protocol;
using Eddy.Native;
using Eddy.Observability;

namespace Eddy.Kafka.Server;

/// <summary>The send side: responses in request order, batched into one send while they are ready.</summary>
internal sealed partial class KafkaConnection
{
    private TaskCompletionSource? _workArrived; // the sender waits for a request to be queued
    private TaskCompletionSource? _roomFreed;   // the receiver waits for an answered request
    private bool _closed; // the sender closed the connection: the receiver's error is expected

    /// <summary>Queues a response in request order; <see cref="DispatchFrames"/> wakes the sender after the batch.</summary>
    private void Enqueue(PendingResponse entry) => _pending.Enqueue(entry);

    private void WakeSender()
    {
        var waiting = _workArrived;
        _workArrived = null;
        waiting?.TrySetResult();
    }

    private Task WaitForRoomAsync()
    {
        _roomFreed ??= new TaskCompletionSource();
        return _roomFreed.Task;
    }

    private async Task SendLoopAsync()
    {
        using var responses = new KafkaWriter(InitialBufferBytes);
        try
        {
            while (true)
            {
                if (_pending.Count == 0 || !IsReady(_pending.Peek()))
                {
                    // Nothing more is ready: what is written goes out now, not after a slow request.
                    if (responses.Length > 0)
                    {
                        await _connection.SendAsync(responses.WrittenMemory);
                        responses.Reset();
                    }
                    if (_pending.Count == 0)
                    {
                        if (_receiverDone)
                        {
                            return;
                        }
                        if (_server.Stopping)
                        {
                            // Everything read is answered: close, which also ends a receive in progress.
                            Close();
                            return;
                        }
                        _workArrived = new TaskCompletionSource();
                        await _workArrived.Task;
                        continue;
                    }
                }
                var entry = _pending.Peek();
                if (entry.CloseReason is not null)
                {
                    Log.Warn("kafka", $"{Describe()}: closing: {entry.CloseReason}");
                    Finish(_pending.Dequeue());
                    if (responses.Length > 0)
                    {
                        await _connection.SendAsync(responses.WrittenMemory); // the answers before it go out first
                    }
                    Close();
                    return;
                }
                bool written = WriteResponse(entry, await ResultOf(entry), responses);
                Finish(_pending.Dequeue());
                if (!written)
                {
                    // The earlier responses are whole and go out; nothing more does.
                    if (responses.Length > 0)
                    {
                        await _connection.SendAsync(responses.WrittenMemory);
                    }
                    Close();
                    return;
                }
            }
        }
        catch (NativeException e)
        {
            Log.Write(LogLevel.Debug, "kafka", $"{Describe()}: {e.Message}");
            Close();
        }
        catch (ObjectDisposedException)
        {
            Close(); // closed under us at shutdown
        }
        finally
        {
            // Whatever was still in flight finishes without being answered: wait for it so that the memory it
            // borrows goes back, then let the receiver go.
            while (_pending.Count > 0)
            {
                var left = _pending.Dequeue();
                if (left.CloseReason is null && left.Immediate is null)
                {
                    try
                    {
                        await left.Work;
                    }
                    catch (Exception)
                    {
                        // Already closing; the failure changes nothing.
                    }
                }
                Finish(left);
            }
            _receiverDone = true;
            var room = _roomFreed;
            _roomFreed = null;
            room?.TrySetResult();
        }
    }

    private static bool IsReady(PendingResponse entry) => entry.CloseReason is not null || entry.Immediate is not null || entry.Work.IsCompleted;

    private static async ValueTask<(IKafkaMessage? Response, Exception? Failure)> ResultOf(PendingResponse entry)
    {
        if (entry.Immediate is not null)
        {
            return (entry.Immediate, null);
        }
        try
        {
            return (await entry.Work, null);
        }
        catch (Exception e)
        {
            return (null, e);
        }
    }

    /// <summary>Appends the response frame; false when the handler or the encoder failed and the connection closes.</summary>
    private bool WriteResponse(PendingResponse entry, (IKafkaMessage? Response, Exception? Failure) result, KafkaWriter responses)
    {
        if (entry.Immediate is not null)
        {
            KafkaFrames.WriteResponse(responses, entry.ImmediateCorrelationId, 0, entry.Immediate);
            return true;
        }
        var header = entry.Header!;
        int mark = responses.Length;
        try
        {
            if (result.Failure is not null)
            {
                throw result.Failure;
            }
            if (result.Response is not null)
            {
                KafkaFrames.WriteResponse(responses, header.CorrelationId, header.RequestApiVersion, result.Response);
            }
            _server.ApiStatsHere.Record(header.RequestApiKey, System.Diagnostics.Stopwatch.GetTimestamp() - entry.StartedTicks, failed: false);
            return true;
        }
        catch (Exception e)
        {
            // A handler or encoder bug: this response may be half written, so it is cut off.
            _server.ApiStatsHere.Record(header.RequestApiKey, System.Diagnostics.Stopwatch.GetTimestamp() - entry.StartedTicks, failed: true);
            responses.Truncate(mark);
            Log.Error("kafka", $"{Describe()}: {entry.Handler!.GetType().Name} v{header.RequestApiVersion} failed, closing: {e}");
            return false;
        }
    }

    /// <summary>Releases what an answered request held and lets the receiver read again.</summary>
    private void Finish(PendingResponse entry)
    {
        entry.Scope.ReleaseAll();
        entry.Buffer?.Release();
        var room = _roomFreed;
        _roomFreed = null;
        room?.TrySetResult();
    }

    private void Close()
    {
        _closed = true;
        _receiverDone = true;
        _connection.Dispose();
    }
}
