using Eddy.Cluster;
using Eddy.Runtime;

namespace Eddy.Kafka.Server;

/// <summary>
/// A Fetch long poll waiting, on its connection's shard, for any of its partitions to grow or for its deadline.
/// Partitions on other shards hear of it through <see cref="IAppendWaiter"/> and post the news home.
/// </summary>
internal sealed class FetchWaiter(Shard home) : IAppendWaiter
{
    private readonly TaskCompletionSource _signal = new();
    private volatile bool _done;

    public bool IsDone => _done;

    public void OnAppend()
    {
        if (!_done)
        {
            home.Post(static state => ((FetchWaiter)state!)._signal.TrySetResult(), this);
        }
    }

    /// <summary>Completes at the first append news or at <paramref name="dueNanos"/> on the shard clock.</summary>
    public async Task WaitAsync(long dueNanos)
    {
        var timer = home.Schedule(dueNanos, static state => ((FetchWaiter)state!)._signal.TrySetResult(), this);
        await _signal.Task;
        timer.Cancel();
        _done = true;
    }
}
