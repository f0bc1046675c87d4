using Eddy.Raft;

namespace Eddy.Raft.Simulator;

/// <summary>
/// The wire between nodes: one envelope per node pair per flush, delayed, lost, duplicated and
/// reordered at random, and cut by partitions (symmetric or one-way).
/// </summary>
internal sealed class SimNetwork
{
    private readonly PriorityQueue<NodeEnvelope, (long Tick, long Sequence)> inFlight = new();
    private readonly bool[,] blocked;
    private readonly SimRandom random;
    private readonly FaultProfile profile;
    private readonly EventLog events;
    private long sequence;

    public SimNetwork(int nodes, SimRandom random, FaultProfile profile, EventLog events)
    {
        blocked = new bool[nodes + 1, nodes + 1];
        this.random = random;
        this.profile = profile;
        this.events = events;
    }

    public long EnvelopesSent { get; private set; }
    public long RaftMessagesSent { get; private set; }
    public bool AnyBlocked { get; private set; }

    public bool IsBlocked(int from, int to) => blocked[from, to];

    public void Block(int from, int to)
    {
        blocked[from, to] = true;
        AnyBlocked = true;
        events.Add(20, from, to);
    }

    public void HealAll()
    {
        Array.Clear(blocked);
        AnyBlocked = false;
        events.Add(21);
    }

    public void Send(NodeEnvelope envelope, long now)
    {
        EnvelopesSent++;
        RaftMessagesSent += envelope.RaftMessageCount;
        events.Add(22, envelope.From, envelope.To, envelope.RaftMessageCount, now);
        if (blocked[envelope.From, envelope.To] || random.Chance(profile.Loss)) return;
        Enqueue(envelope, now);
        if (random.Chance(profile.Duplicate)) Enqueue(envelope, now);
    }

    private void Enqueue(NodeEnvelope envelope, long now)
    {
        long delay = random.Between(1, profile.DelayMax);
        if (random.Chance(profile.LongDelay)) delay += random.Int(profile.LongDelayMax);
        inFlight.Enqueue(envelope, (now + delay, sequence++));
    }

    /// <summary>The next envelope due by now that survives the partitions in force at delivery.</summary>
    public bool TryReceive(long now, out NodeEnvelope envelope)
    {
        while (inFlight.TryPeek(out envelope!, out var due) && due.Tick <= now)
        {
            inFlight.Dequeue();
            if (!blocked[envelope.From, envelope.To]) return true;
        }
        envelope = null!;
        return false;
    }
}
