using System.Diagnostics;
using Eddy.Buffers;
using Eddy.Runtime;
using Eddy.Runtime.Files;
using Eddy.Storage;

namespace Eddy.Bench.Storage;

/// <summary>
/// `storage-read DIR [MiB] [ROUNDS]`: where the time of a cold sequential log read goes. Over the same segment files,
/// in rotating order each round: the log read (`PartitionLog.ReadAsync`, 1 MiB at a time), plain O_DIRECT reads of the
/// files through the shard (1 MiB, block-aligned) into one 1 MiB buffer and into the successive megabytes of an
/// 8 MiB buffer, and fio (`--direct=1 --ioengine=psync --bs=1m`, pinned to the shard's CPU). The first two show the
/// reader's own cost; the 1 MiB/8 MiB pair shows what the memory a read lands in costs on this machine.
/// </summary>
internal static class ReadComparison
{
    private const int Block = SegmentReader.IoSize;

    public static int Run(string[] args)
    {
        string dir = Path.Combine(args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "eddy-bench-read"), "log");
        int mib = args.Length > 1 ? int.Parse(args[1]) : 256;
        int rounds = args.Length > 2 ? int.Parse(args[2]) : 8;
        using var group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1 });
        int cpu = Eddy.Native.Affinity.AllowedCpus()[0];
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, io backend {group[0].IoBackendName}, shard and fio on cpu {cpu}, {dir}");
        if (!Directory.Exists(dir))
        {
            group.InvokeAsync(0, () => WriteAsync(dir, mib)).Wait();
        }
        var log = group.InvokeAsync(0, () => PartitionLog.OpenAsync(dir, new LogOptions { UseBatchCache = false, RetentionTime = null })).Result;
        var files = log.Segments.Select(s => s.DataPath).ToArray();
        group.InvokeAsync(0, () => LogPassAsync(log)).Wait(); // warm-up: JIT and pools
        Thread.Sleep(500);
        var ways = new (string Name, Func<double> Measure)[]
        {
            ("log read", () => group.InvokeAsync(0, () => LogPassAsync(log)).Result),
            ("direct, 1 MiB buffer", () => group.InvokeAsync(0, () => DirectPassAsync(files, Block)).Result),
            ("direct, 8 MiB buffer", () => group.InvokeAsync(0, () => DirectPassAsync(files, 8 * Block)).Result),
            ("fio", () => Fio(files, cpu)),
        };
        var results = ways.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            Console.Write($"round {round + 1}:");
            for (int k = 0; k < ways.Length; k++)
            {
                int w = (k + round) % ways.Length;
                double bytesPerSecond = ways[w].Measure();
                results[w].Add(bytesPerSecond);
                Console.Write($" {ways[w].Name} {bytesPerSecond / 1e6:F0}");
            }
            Console.WriteLine(" MB/s");
        }
        for (int w = 0; w < ways.Length; w++)
        {
            results[w].Sort();
            Console.WriteLine($"median {ways[w].Name}: {StorageRun.Median(results[w]) / 1e6:F0} MB/s");
        }
        group.InvokeAsync(0, () => log.DisposeAsync()).Wait();
        group.Stop(TimeSpan.FromSeconds(10));
        return 0;
    }

    private static async ValueTask<int> WriteAsync(string dir, int mib)
    {
        var batch = StorageRun.MakeBatch(1 << 20);
        await using var log = await PartitionLog.OpenAsync(dir, new LogOptions { UseBatchCache = false, RetentionTime = null, FlushEveryAppend = false });
        for (int i = 0; i < mib; i++)
        {
            await log.AppendAsync(batch);
        }
        await log.FlushAsync();
        return 0;
    }

    private static async ValueTask<double> LogPassAsync(PartitionLog log)
    {
        var clock = Stopwatch.StartNew();
        long offset = log.StartOffset;
        long bytes = 0;
        while (offset < log.LogEndOffset)
        {
            using var read = await log.ReadAsync(offset, Block);
            bytes += read.Records.Length;
            offset = read.NextOffset;
        }
        return bytes / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Block-aligned reads of whole blocks, each into the next block of a <paramref name="bufferSize"/> buffer.</summary>
    private static async ValueTask<double> DirectPassAsync(string[] files, int bufferSize)
    {
        var buffer = Shard.Current!.Buffers.Rent(bufferSize);
        try
        {
            long bytes = 0;
            int slot = 0;
            var clock = Stopwatch.StartNew();
            foreach (var path in files)
            {
                using var file = DirectFile.Open(path, create: false, readOnly: true);
                long size = new FileInfo(path).Length / Block * Block;
                for (long at = 0; at < size; at += Block)
                {
                    bytes += await file.ReadAsync(buffer, slot * Block, Block, at);
                    slot = (slot + 1) % (bufferSize / Block);
                }
            }
            return bytes / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            buffer.Return();
        }
    }

    private static double Fio(string[] files, int cpu)
    {
        var info = new ProcessStartInfo("fio", $"--name=eddy --filename={string.Join(':', files)} --readonly --direct=1 --ioengine=psync --cpus_allowed={cpu} --rw=read --bs={Block / 1024}k --file_service_type=sequential --output-format=terse --terse-version=3")
        {
            RedirectStandardOutput = true,
        };
        using var p = Process.Start(info)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return double.Parse(output.Trim().Split(';')[6]) * 1024; // terse v3: field 6 is read bandwidth in KiB/s
    }
}
