using System.Collections.Concurrent;

namespace Eddy.Rpc;

/// <summary>
/// Which peer nodes connected to this node's listener, and in what order: the listener (on whichever shard accepted)
/// notes each peer that said hello, and every shard's links read it. A node that connects to us is up, so a link to it
/// that is waiting out a back-off from its outage connects at its next frame instead: a restarted node otherwise waited
/// up to <see cref="NodeLinks.MaxRetryInterval"/> for its leaders' appends, and stayed out of the in-sync replicas.
/// </summary>
public sealed class PeerSightings
{
    private readonly ConcurrentDictionary<int, long> _last = new();
    private long _count;

    /// <summary>Node <paramref name="node"/> connected and said hello. Any shard.</summary>
    public void Saw(int node) => _last[node] = Interlocked.Increment(ref _count);

    /// <summary>The number of the last sighting of <paramref name="node"/> (0: never seen); a later one is larger.</summary>
    public long LastOf(int node) => _last.TryGetValue(node, out long seen) ? seen : 0;
}
