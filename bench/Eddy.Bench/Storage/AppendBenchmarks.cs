using BenchmarkDotNet.Attributes;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Bench.Storage;

/// <summary>
/// Allocations on the hot paths: an append (here without fdatasync, to measure the code, not the disk) and a
/// read served from the batch cache. Each benchmark invocation runs 1000 operations inside one hop to the shard,
/// so the hop's own allocation is spread thin; the memory diagnoser's figure is per operation.
/// </summary>
[MemoryDiagnoser]
public class AppendBenchmarks
{
    private const int Ops = 1000;
    private ShardGroup _group = null!;
    private PartitionLog _log = null!;
    private byte[] _batch = null!;
    private string _dir = null!;

    [Params(1024, 65536)]
    public int BatchBytes { get; set; }

    [Params(true, false)]
    public bool Cache { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "eddy-bench-append-" + Guid.NewGuid().ToString("n"));
        _group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1 });
        _batch = StorageRun.MakeBatch(BatchBytes);
        _log = _group.InvokeAsync(0, () => PartitionLog.OpenAsync(_dir, new LogOptions
        {
            FlushEveryAppend = false,
            FlushBytes = long.MaxValue,
            FlushInterval = TimeSpan.FromDays(1),
            SegmentBytes = 64L << 30, // no roll inside the measurement
            RetentionTime = null,
            UseBatchCache = Cache,
        })).Result;
        _group.InvokeAsync(0, () => AppendMany(1)).Wait();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _group.InvokeAsync(0, async () => await _log.DisposeAsync()).Wait();
        _group.Stop(TimeSpan.FromSeconds(10));
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Append() => _group.InvokeAsync(0, () => AppendMany(Ops)).Wait();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void ReadTail()
    {
        if (Cache)
        {
            _group.InvokeAsync(0, () => ReadMany(Ops)).Wait();
        }
    }

    private async ValueTask<bool> AppendMany(int n)
    {
        for (int i = 0; i < n; i++)
        {
            await _log.AppendAsync(_batch).ConfigureAwait(false);
        }
        return true;
    }

    private async ValueTask<bool> ReadMany(int n)
    {
        long last = _log.LogEndOffset - 1;
        for (int i = 0; i < n; i++)
        {
            using var read = await _log.ReadAsync(last, 1 << 20);
        }
        return true;
    }
}
