using System.Diagnostics;
using Eddy.Buffers;
using Eddy.Runtime;
using Eddy.Runtime.Files;
using Eddy.Runtime.IO;

namespace Eddy.Bench.Runtime;

/// <summary>
/// `file-append DIR [MiB]`: sequential O_DIRECT append of MiB (default 1024) through a shard, 1 MiB writes, one
/// and four in flight, on io_uring and on epoll. Compare with fio on the same file system:
/// fio --name=w --filename=DIR/fio.dat --ioengine=io_uring --direct=1 --rw=write --bs=1M --size=1G --iodepth=1|4
/// </summary>
internal static class FileAppend
{
    private const int BlockSize = 1 << 20;

    public static async Task<int> Run(string[] args)
    {
        string dir = args.Length > 0 ? args[0] : Path.GetTempPath();
        long total = (args.Length > 1 ? long.Parse(args[1]) : 1024) << 20;
        foreach (var backend in new[] { IoBackendKind.IoUring, IoBackendKind.Epoll })
        {
            foreach (int depth in new[] { 1, 4 })
            {
                double mbps = await Measure(dir, total, depth, backend);
                Console.WriteLine($"append {BlockSize >> 20} MiB writes, depth {depth}, {backend,-8}: {mbps,8:N0} MB/s");
            }
        }
        return 0;
    }

    private static async Task<double> Measure(string dir, long total, int depth, IoBackendKind backend)
    {
        using var group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1, Backend = backend });
        string path = Path.Combine(dir, $"eddy-append-{backend}-{depth}.dat");
        File.Delete(path);
        double seconds = await group.InvokeAsync(0, async () =>
        {
            using var file = DirectFile.Open(path);
            var buffers = new AlignedBuffer[depth];
            for (int i = 0; i < depth; i++)
            {
                buffers[i] = Shard.Current!.Buffers.Rent(BlockSize);
                buffers[i].Span.Fill((byte)i);
            }
            var watch = Stopwatch.StartNew();
            var inFlight = new ValueTask[depth];
            long offset = 0;
            while (offset < total)
            {
                for (int i = 0; i < depth && offset < total; i++, offset += BlockSize)
                {
                    inFlight[i] = file.WriteAsync(buffers[i], 0, BlockSize, offset);
                }
                for (int i = 0; i < depth; i++)
                {
                    await inFlight[i];
                    inFlight[i] = default;
                }
            }
            await file.FlushDataAsync();
            double elapsed = watch.Elapsed.TotalSeconds;
            foreach (var b in buffers)
            {
                b.Return();
            }
            return elapsed;
        });
        File.Delete(path);
        return total / seconds / 1e6;
    }
}
