namespace Eddy.Raft;

/// <summary>A Raft message of one group, as carried between nodes. A message read from a peer with entries may hold
/// them in a <see cref="Lease"/>, an array rented from the shared pool that only the message's one receiver may give
/// back, once nothing refers to the entries any more; one never given back is left to the GC.</summary>
public readonly record struct GroupMessage(long Group, Message Message)
{
    public byte[]? Lease { get; init; }

    /// <summary>Whether every record batch in the message's entries had its CRC checked on the way in (a frame's
    /// tail), so the replica need not check it again.</summary>
    public bool BatchesChecked { get; init; }
}

/// <summary>
/// A heartbeat (or its answer) reduced to what differs per group; sender, receiver and type are
/// the envelope's. Sixteen groups' worth is smaller than one full message header per group.
/// </summary>
public readonly record struct CoalescedBeat(long Group, long Term, long Commit, long Sequence);

/// <summary>
/// Everything one node sends another in one flush, for all the groups they share: one network
/// message however many groups there are. Heartbeats, the bulk of an idle cluster's traffic, are
/// coalesced into compact lists.
/// </summary>
public sealed class NodeEnvelope
{
    public int From { get; internal set; }
    public int To { get; internal set; }
    public List<GroupMessage> Messages { get; } = new();
    public List<CoalescedBeat> Heartbeats { get; } = new();
    public List<CoalescedBeat> HeartbeatResponses { get; } = new();

    public int RaftMessageCount => Messages.Count + Heartbeats.Count + HeartbeatResponses.Count;

    internal void Reset(int from, int to)
    {
        From = from;
        To = to;
        Messages.Clear();
        Heartbeats.Clear();
        HeartbeatResponses.Clear();
    }

    /// <summary>Expands the envelope back into per-group messages, in a fixed order, into output.</summary>
    public void Unpack(List<GroupMessage> output)
    {
        foreach (var beat in Heartbeats) output.Add(new GroupMessage(beat.Group, Expand(MessageType.Heartbeat, beat)));
        foreach (var beat in HeartbeatResponses) output.Add(new GroupMessage(beat.Group, Expand(MessageType.HeartbeatResponse, beat)));
        output.AddRange(Messages);
    }

    private Message Expand(MessageType type, in CoalescedBeat beat) => new()
    {
        Type = type, From = From, To = To, Term = beat.Term, Commit = beat.Commit, Sequence = beat.Sequence,
    };
}

/// <summary>
/// Collects the outgoing messages of every group on a node and packs them per destination node.
/// Envelopes are pooled: the caller returns them with Recycle once they are delivered or dropped.
/// </summary>
public sealed class EnvelopeBatcher
{
    private readonly int nodeId;
    private readonly Dictionary<int, NodeEnvelope> open = new();
    private readonly Stack<NodeEnvelope> pool = new();
    private static readonly Comparer<NodeEnvelope> ByDestination = Comparer<NodeEnvelope>.Create(static (a, b) => a.To.CompareTo(b.To));

    public EnvelopeBatcher(int nodeId)
    {
        Invariant.True(nodeId > 0, "node ids start at 1");
        this.nodeId = nodeId;
    }

    public void Add(long group, in Message message)
    {
        Invariant.True(message.From == nodeId, "batched a message from another node");
        if (!open.TryGetValue(message.To, out var envelope))
        {
            envelope = pool.Count > 0 ? pool.Pop() : new NodeEnvelope();
            envelope.Reset(nodeId, message.To);
            open[message.To] = envelope;
        }
        switch (message.Type)
        {
            case MessageType.Heartbeat:
                envelope.Heartbeats.Add(new CoalescedBeat(group, message.Term, message.Commit, message.Sequence));
                break;
            case MessageType.HeartbeatResponse:
                envelope.HeartbeatResponses.Add(new CoalescedBeat(group, message.Term, message.Commit, message.Sequence));
                break;
            default:
                envelope.Messages.Add(new GroupMessage(group, message));
                break;
        }
    }

    /// <summary>Moves every envelope built since the last flush into output, ordered by destination.</summary>
    public void Flush(List<NodeEnvelope> output)
    {
        int start = output.Count;
        foreach (var (_, envelope) in open) output.Add(envelope);
        open.Clear();
        output.Sort(start, output.Count - start, ByDestination);
    }

    public void Recycle(NodeEnvelope envelope) => pool.Push(envelope);
}
