using System.Diagnostics;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Bench.Storage;

/// <summary>
/// `dotnet run -c Release --project bench/Eddy.Bench -- storage [DIR] [MiB]`: the storage figures for
/// bench/RESULTS.md. Appends with fdatasync per append (64 KiB and 1 MiB), cold sequential O_DIRECT reads, tail
/// reads from the batch cache, and recovery time per GiB; fio runs beside it on the same directory where installed.
/// </summary>
public static class StorageRun
{
    public static int Run(string[] args)
    {
        string root = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "eddy-bench-storage");
        int mib = args.Length > 1 ? int.Parse(args[1]) : 256;
        Directory.CreateDirectory(root);
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, dir {root}, {mib} MiB per run");
        using var group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1 });
        Console.WriteLine($"io backend: {group[0].IoBackendName}");
        foreach (int size in new[] { 64 << 10, 1 << 20 })
        {
            double eddy = group.InvokeAsync(0, () => AppendAsync(Path.Combine(root, $"append-{size}"), size, (long)mib << 20)).Result;
            double fio = Fio(root, $"--rw=write --bs={size / 1024}k --size={mib}m --fdatasync=1");
            Report($"append {size / 1024} KiB + fdatasync", eddy, fio);
        }
        string readDir = Path.Combine(root, "append-1048576");
        double cold = group.InvokeAsync(0, () => ReadAsync(readDir, 1 << 20, useCache: false)).Result;
        double fioRead = Fio(root, $"--rw=read --bs=1m --size={mib}m");
        Report("cold sequential read, 1 MiB reads", cold, fioRead);
        double tail = group.InvokeAsync(0, () => TailReadAsync(Path.Combine(root, "tail"))).Result;
        Console.WriteLine($"tail read from the batch cache (64 KiB batches, 1 MiB reads, bytes copied out): {tail / 1e9:F2} GB/s");
        var (seconds, bytes, scanned) = group.InvokeAsync(0, () => RecoveryAsync(readDir)).Result;
        Console.WriteLine($"recovery, every index removed (all {bytes >> 20} MiB scanned and CRC-checked): {seconds * 1000:F0} ms = {seconds / (bytes / (double)(1L << 30)):F2} s/GiB");
        Console.WriteLine($"recovery, clean (indexes present, last segment scanned: {scanned >> 20} MiB): {group.InvokeAsync(0, () => OpenTimeAsync(readDir)).Result * 1000:F0} ms");
        group.Stop(TimeSpan.FromSeconds(10));
        Directory.Delete(root, recursive: true);
        return 0;
    }

    private static void Report(string what, double eddy, double fio)
        => Console.WriteLine(fio > 0
            ? $"{what}: eddy {eddy / 1e6:F1} MB/s, fio {fio / 1e6:F1} MB/s, ratio {eddy / fio:P0}"
            : $"{what}: eddy {eddy / 1e6:F1} MB/s (fio not installed)");

    private static async ValueTask<double> AppendAsync(string dir, int size, long total)
    {
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
        var batch = MakeBatch(size);
        await using var log = await PartitionLog.OpenAsync(dir, new LogOptions { UseBatchCache = false, RetentionTime = null });
        var clock = Stopwatch.StartNew();
        long written = 0;
        while (written < total)
        {
            await log.AppendAsync(batch);
            written += batch.Length;
        }
        return written / clock.Elapsed.TotalSeconds;
    }

    private static async ValueTask<double> ReadAsync(string dir, int maxBytes, bool useCache)
    {
        await using var log = await PartitionLog.OpenAsync(dir, new LogOptions { UseBatchCache = useCache, RetentionTime = null });
        var clock = Stopwatch.StartNew();
        long offset = 0;
        long bytes = 0;
        while (offset < log.LogEndOffset)
        {
            using var read = await log.ReadAsync(offset, maxBytes);
            bytes += read.Records.Length;
            offset = read.NextOffset;
        }
        return bytes / clock.Elapsed.TotalSeconds;
    }

    private static async ValueTask<double> TailReadAsync(string dir)
    {
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
        await using var log = await PartitionLog.OpenAsync(dir, new LogOptions { RetentionTime = null, FlushEveryAppend = false, FlushBytes = long.MaxValue });
        var batch = MakeBatch(64 << 10);
        for (int i = 0; i < 400; i++)
        {
            await log.AppendAsync(batch); // 25 MiB: inside the default 64 MiB cache
        }
        var sink = new byte[1 << 20];
        var clock = Stopwatch.StartNew();
        long bytes = 0;
        for (int round = 0; round < 40; round++)
        {
            long offset = 0;
            while (offset < log.LogEndOffset)
            {
                using var read = await log.ReadAsync(offset, 1 << 20);
                if (!read.FromCache)
                {
                    throw new InvalidOperationException("tail read missed the cache");
                }
                read.Records.Span.CopyTo(sink); // what a consumer's send does with the bytes: the view itself is free
                bytes += read.Records.Length;
                offset = read.NextOffset;
            }
        }
        return bytes / clock.Elapsed.TotalSeconds;
    }

    private static async ValueTask<(double Seconds, long Bytes, long LastSegment)> RecoveryAsync(string dir)
    {
        foreach (var index in Directory.GetFiles(dir, "*.index"))
        {
            File.Delete(index);
        }
        var clock = Stopwatch.StartNew();
        await using var log = await PartitionLog.OpenAsync(dir, new LogOptions { UseBatchCache = false, RetentionTime = null });
        return (clock.Elapsed.TotalSeconds, log.SizeBytes, log.Segments[^1].Size);
    }

    private static async ValueTask<double> OpenTimeAsync(string dir)
    {
        var clock = Stopwatch.StartNew();
        await using var log = await PartitionLog.OpenAsync(dir, new LogOptions { UseBatchCache = false, RetentionTime = null });
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>One uncompressed batch of about <paramref name="size"/> bytes (one record).</summary>
    internal static byte[] MakeBatch(int size)
    {
        var builder = new BatchBuilder();
        builder.Reset(1_700_000_000_000);
        builder.Add([], new byte[size - 80], 1_700_000_000_000, nullKey: true);
        return builder.Finish().ToArray();
    }

    /// <summary>fio's bandwidth in bytes/s for the same pattern with O_DIRECT, or 0 when fio is missing.</summary>
    private static double Fio(string dir, string pattern)
    {
        try
        {
            string file = Path.Combine(dir, "fio.dat");
            if (pattern.Contains("write", StringComparison.Ordinal))
            {
                File.Delete(file); // a fresh file, as the log's segments are
            }
            var info = new ProcessStartInfo("fio", $"--name=eddy --filename={file} --direct=1 --ioengine=psync {pattern} --output-format=terse --terse-version=3")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var p = Process.Start(info)!;
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            var fields = output.Trim().Split(';');
            // terse v3: field 6 is read bandwidth (KiB/s), field 47 write bandwidth (KiB/s).
            double readKiB = double.Parse(fields[6]);
            double writeKiB = double.Parse(fields[47]);
            return Math.Max(readKiB, writeKiB) * 1024;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 0;
        }
    }
}
