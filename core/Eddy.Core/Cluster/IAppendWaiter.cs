namespace Eddy.Cluster;

/// <summary>
/// Someone waiting for a partition to grow (a Fetch long poll). <see cref="OnAppend"/> runs on the partition's
/// shard and must only hand the news to the waiter's own shard; it may be called after the waiter gave up.
/// </summary>
public interface IAppendWaiter
{
    /// <summary>True once the waiter no longer needs news: the partition drops it at the next registration.</summary>
    bool IsDone { get; }

    void OnAppend();
}
