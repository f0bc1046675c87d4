using Eddy.Runtime;

namespace Eddy.Kafka.Server;

/// <summary>
/// What a response borrows until it is written: a Fetch response points into log reads owned by other shards'
/// buffers. The handler registers each release here; the connection runs them once the response bytes are in
/// its send buffer (or the response is dropped), each on the shard that owns the memory. One per request.
/// </summary>
public sealed class ResponseScope
{
    private readonly List<(Shard Owner, Action<object?> Release, object? State)> _releases = [];

    /// <summary>Runs <paramref name="release"/> on <paramref name="owner"/> after the response is written.</summary>
    public void Defer(Shard owner, Action<object?> release, object? state) => _releases.Add((owner, release, state));

    public void ReleaseAll()
    {
        if (_releases.Count == 0)
        {
            return;
        }
        foreach (var (owner, release, state) in _releases)
        {
            RunOn(owner, release, state);
        }
        _releases.Clear();
    }

    /// <summary>Runs <paramref name="release"/> now when this is <paramref name="owner"/>'s shard, else posts it there.</summary>
    public static void RunOn(Shard owner, Action<object?> release, object? state)
    {
        if (owner == Shard.Current)
        {
            release(state);
        }
        else
        {
            owner.Post(release, state);
        }
    }
}
