using Eddy.Runtime.IO;

namespace Eddy.Runtime;

/// <summary>
/// A node's set of shards and the cross-shard mesh between them. Started once; code off the shards (the host,
/// tests) reaches them through <see cref="InvokeAsync{T}(int, Func{ValueTask{T}})"/>.
/// </summary>
public sealed class ShardGroup : IDisposable
{
    private readonly Shard[] _shards;
    private bool _stopped;

    private ShardGroup(ShardGroupOptions options)
    {
        if (options.ShardCount < 1 || options.ShardCount > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ShardCount, "shard count must be within [1, 1024]");
        }
        OnUnhandledException = options.OnUnhandledException ?? (e => Console.Error.WriteLine($"shard callback failed: {e}"));
        Mesh = new SmpMesh(this, options.ShardCount, options.SmpQueueCapacity);
        int[] cpus = Native.Affinity.AllowedCpus();
        _shards = new Shard[options.ShardCount];
        for (int i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new Shard(this, i, cpus[(i + options.CpuOffset) % cpus.Length], options.Clock);
        }
    }

    public int Count => _shards.Length;

    public Shard this[int id] => _shards[id];

    public IReadOnlyList<Shard> Shards => _shards;

    internal SmpMesh Mesh { get; }

    internal Action<Exception> OnUnhandledException { get; }

    /// <summary>Starts every shard and returns once all are running; throws if any failed to start.</summary>
    public static ShardGroup Start(ShardGroupOptions options)
    {
        var group = new ShardGroup(options);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var started = new ManualResetEventSlim[group.Count];
        for (int i = 0; i < group.Count; i++)
        {
            started[i] = new ManualResetEventSlim();
            group._shards[i].Start(options.Backend, options.PinThreads, started[i], failures.Enqueue);
        }
        foreach (var e in started)
        {
            // The starting thread (host or test) waits for the shards; no shard blocks here.
            e.Wait();
            e.Dispose();
        }
        if (!failures.IsEmpty)
        {
            group.Dispose();
            throw new AggregateException("a shard failed to start", failures);
        }
        return group;
    }

    /// <summary>Runs <paramref name="work"/> on a shard from any thread; the returned task completes off the shard.</summary>
    public Task<T> InvokeAsync<T>(int shard, Func<ValueTask<T>> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _shards[shard].Post(static s =>
        {
            var (work, done) = ((Func<ValueTask<T>>, TaskCompletionSource<T>))s!;
            _ = Complete(work, done);
        }, (work, done));
        return done.Task;
    }

    public Task InvokeAsync(int shard, Func<ValueTask> work)
        => InvokeAsync<bool>(shard, async () =>
        {
            await work();
            return true;
        });

    public Task<T> InvokeAsync<T>(int shard, Func<T> work) => InvokeAsync(shard, () => new ValueTask<T>(work()));

    private static async Task Complete<T>(Func<ValueTask<T>> work, TaskCompletionSource<T> done)
    {
        try
        {
            done.SetResult(await work());
        }
        catch (Exception e)
        {
            done.SetException(e);
        }
    }

    /// <summary>Asks every shard to stop once its queued work is done, and waits for their threads.</summary>
    public void Stop(TimeSpan timeout)
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        foreach (var shard in _shards)
        {
            shard.RequestStop();
        }
        foreach (var shard in _shards)
        {
            if (!shard.Join(timeout))
            {
                throw new TimeoutException($"shard {shard.Id} did not stop within {timeout}");
            }
        }
        foreach (var shard in _shards)
        {
            shard.ReleaseWake();
        }
    }

    public void Dispose() => Stop(TimeSpan.FromSeconds(10));
}
