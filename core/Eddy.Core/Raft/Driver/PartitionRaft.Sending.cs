namespace Eddy.Raft.Driver;

// Sending: a Ready's appends that carry their batches leave before its write, the rest after it (filled from the log);
// heartbeats, their answers and a leader's appends with batches leave between Readies; a node's appends keep their
// order throughout.
public sealed partial class PartitionRaft
{
    // Messages sent between Readies (heartbeats, their answers, appends with their batches), and the nodes whose appends
    // must wait: an append of the Ready in flight is not sent yet (a later one must not pass it), or one was kept back.
    private readonly List<Message> _sendNow = new();
    private readonly HashSet<int> _appendsHeld = new();
    private readonly HashSet<int> _appendsKeptBack = new();
    private readonly Func<Message, bool> _canSendNow;

    /// <summary>With <paramref name="sendEarly"/>, sends now (and takes out of <paramref name="messages"/>) the appends
    /// whose entries all carry their batches (proposals, membership changes): nothing to read back from the log, which
    /// may not hold them yet. Notes the nodes whose appends stay, so that no later append passes them.</summary>
    private void HoldAppends(List<Message> messages, bool sendEarly)
    {
        int kept = 0;
        for (int i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (sendEarly && IsEarly(message) && !_appendsHeld.Contains(message.To))
            {
                _send(Group, message);
                continue;
            }
            if (message.Type == MessageType.Append)
            {
                _appendsHeld.Add(message.To);
            }
            messages[kept++] = message;
        }
        messages.RemoveRange(kept, messages.Count - kept);
    }

    /// <summary>Sends what the core lets go before the next Ready (heartbeats and their answers at once, so that a slow
    /// disk under the Ready in flight delays no heartbeat into an election; appends with their batches, so that
    /// followers write while this leader does), keeping each node's appends in order.</summary>
    private void SendWhatCanGoNow()
    {
        if (Failure is not null)
        {
            return;
        }
        _appendsKeptBack.Clear();
        _raft.TakeMessagesToSendNow(_canSendNow, _sendNow);
        foreach (var message in _sendNow)
        {
            _send(Group, message);
        }
        _sendNow.Clear();
    }

    private bool CanSendNow(Message message)
    {
        if (message.Type != MessageType.Append)
        {
            return true;
        }
        if ((IsEarly(message) || message.Entries is not { Length: > 0 }) && !_appendsHeld.Contains(message.To) && !_appendsKeptBack.Contains(message.To))
        {
            return true;
        }
        _appendsKeptBack.Add(message.To);
        return false;
    }

    private static bool IsEarly(in Message message)
    {
        if (message.Type != MessageType.Append || message.Entries is not { Length: > 0 } entries)
        {
            return false;
        }
        foreach (var entry in entries)
        {
            if (entry.Data.IsEmpty)
            {
                return false; // a run read back from storage, or the no-op, whose batch is made at the write
            }
        }
        return true;
    }

    /// <summary>Sends a Ready's messages that <see cref="HoldAppends"/> left, each append filled with its batches.</summary>
    private async ValueTask SendAsync(List<Message> messages)
    {
        foreach (var message in messages)
        {
            if (message.Entries is not { Length: > 0 })
            {
                _send(Group, message);
            }
            else if (await WithDataAsync(message) is { } filled)
            {
                _send(Group, filled);
            }
        }
    }
}
