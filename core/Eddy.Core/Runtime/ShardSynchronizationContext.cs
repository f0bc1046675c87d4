namespace Eddy.Runtime;

/// <summary>Keeps every <c>await</c> continuation on the shard that awaited.</summary>
internal sealed class ShardSynchronizationContext : SynchronizationContext
{
    private readonly Shard _shard;

    public ShardSynchronizationContext(Shard shard) => _shard = shard;

    public override void Post(SendOrPostCallback d, object? state) => _shard.PostCore(d, state);

    public override void Send(SendOrPostCallback d, object? state)
    {
        if (!_shard.IsCurrent)
        {
            throw new NotSupportedException("a synchronous call into a shard would block the caller's thread; use Post or Smp.SubmitTo");
        }
        d(state);
    }

    public override SynchronizationContext CreateCopy() => this;
}
