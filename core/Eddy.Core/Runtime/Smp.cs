namespace Eddy.Runtime;

/// <summary>
/// Cross-shard calls from shard code: the work runs on the target shard, and the result (or exception) comes
/// back to the calling shard, where the await resumes. Calls to the caller's own shard run inline.
/// </summary>
public static class Smp
{
    public static ValueTask<T> SubmitTo<T>(int shard, Func<T> work)
    {
        var origin = Origin();
        if (origin.Id == shard)
        {
            return new ValueTask<T>(work());
        }
        var call = SmpCall<T>.Start(origin, shard, work);
        return new ValueTask<T>(call, call.Version);
    }

    public static ValueTask<T> SubmitTo<T>(int shard, Func<ValueTask<T>> work)
    {
        var origin = Origin();
        if (origin.Id == shard)
        {
            return work();
        }
        var call = SmpCall<T>.Start(origin, shard, work);
        return new ValueTask<T>(call, call.Version);
    }

    public static ValueTask SubmitTo(int shard, Action work)
    {
        var origin = Origin();
        if (origin.Id == shard)
        {
            work();
            return default;
        }
        var call = SmpCall<NoResult>.Start(origin, shard, work);
        return new ValueTask(call, call.Version);
    }

    public static ValueTask SubmitTo(int shard, Func<ValueTask> work)
    {
        var origin = Origin();
        if (origin.Id == shard)
        {
            return work();
        }
        var call = SmpCall<NoResult>.Start(origin, shard, work);
        return new ValueTask(call, call.Version);
    }

    /// <summary>Fire-and-forget delivery of a message to another shard (for example a buffer going home).</summary>
    internal static void Send(Shard target, ISmpMessage message)
    {
        var origin = Shard.Current;
        if (origin == target)
        {
            message.Run(target);
        }
        else if (origin is not null && origin.Group == target.Group)
        {
            origin.Outbox.Send(target.Id, message);
        }
        else
        {
            target.Post(static s => ((ISmpMessage)s!).Run(Shard.Current!), message);
        }
    }

    private static Shard Origin()
        => Shard.Current ?? throw new InvalidOperationException("Smp.SubmitTo is for shard code; from another thread use ShardGroup.InvokeAsync");
}
