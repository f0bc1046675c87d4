using System.Diagnostics;
using Eddy.Records;
using Eddy.Runtime;
using Eddy.Storage;

namespace Eddy.Bench.Storage;

/// <summary>
/// `dotnet run -c Release --project bench/Eddy.Bench -- storage [DIR] [MiB] [READ_ROUNDS]`: the storage figures for
/// bench/RESULTS.md. Appends with fdatasync per append (64 KiB and 1 MiB), cold sequential O_DIRECT reads (several
/// rounds, alternating with fio), tail reads from the batch cache, and recovery time per GiB; fio runs beside it on
/// the same directory where installed.
/// </summary>
public static class StorageRun
{
    public static int Run(string[] args)
    {
        string root = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "eddy-bench-storage");
        int mib = args.Length > 1 ? int.Parse(args[1]) : 256;
        int readRounds = args.Length > 2 ? int.Parse(args[2]) : 10;
        Directory.CreateDirectory(root);
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, kernel {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}, dir {root}, {mib} MiB per run");
        using var group = ShardGroup.Start(new ShardGroupOptions { ShardCount = 1 });
        // Shard 0 runs pinned to the first allowed CPU; fio runs pinned there too, so neither gets a core to itself
        // that the other lacks (the machine is shared).
        s_fioCpu = Eddy.Native.Affinity.AllowedCpus()[0];
        Console.WriteLine($"io backend: {group[0].IoBackendName}, shard and fio on cpu {s_fioCpu}");
        foreach (int size in new[] { 4 << 10, 16 << 10, 64 << 10, 1 << 20 })
        {
            double eddy = group.InvokeAsync(0, () => AppendAsync(Path.Combine(root, $"append-{size}"), size, (long)mib << 20)).Result;
            string fioFile = Path.Combine(root, "fio.dat");
            File.Delete(fioFile); // a fresh file, as the log's segments are
            double fio = Fio(fioFile, $"--rw=write --bs={size / 1024}k --size={mib}m --fdatasync=1");
            Report($"append {size / 1024} KiB + fdatasync", eddy, fio);
        }
        string readDir = Path.Combine(root, "append-1048576");
        ColdReads(group, readDir, Path.Combine(root, "append-65536"), readRounds);
        double tail = group.InvokeAsync(0, () => TailReadAsync(Path.Combine(root, "tail"))).Result;
        Console.WriteLine($"tail read from the batch cache (64 KiB batches, 1 MiB reads, bytes copied out): {tail / 1e9:F2} GB/s");
        var (seconds, bytes, scanned) = group.InvokeAsync(0, () => RecoveryAsync(readDir)).Result;
        Console.WriteLine($"recovery, every index removed (all {bytes >> 20} MiB scanned and CRC-checked): {seconds * 1000:F0} ms = {seconds / (bytes / (double)(1L << 30)):F2} s/GiB");
        Console.WriteLine($"recovery, clean (indexes present, last segment scanned: {scanned >> 20} MiB): {group.InvokeAsync(0, () => OpenTimeAsync(readDir)).Result * 1000:F0} ms");
        group.Stop(TimeSpan.FromSeconds(10));
        Directory.Delete(root, recursive: true);
        return 0;
    }

    /// <summary>
    /// Cold sequential reads of the 1 MiB-append log, 1 MiB at a time, against fio reading the same segment files
    /// with O_DIRECT in blocks of the reader's I/O size: the same bytes on the same extents, so the disk (and any
    /// cache below the guest) sees the same thing. The log is opened once, before the rounds, as its recovery scan
    /// reads the last segment; rounds alternate who reads first, since a cache below the guest may favour the second.
    /// </summary>
    private static void ColdReads(ShardGroup group, string readDir, string warmDir, int rounds)
    {
        // Warm the read path on another log first: a JIT's first compilations are no part of a read's cost (the
        // shipped binary is NativeAOT), and a pass of a few hundred reads also lets the tiered JIT finish.
        group.InvokeAsync(0, () => ReadAsync(warmDir, 1 << 20, useCache: false)).Wait();
        Thread.Sleep(500);
        var log = group.InvokeAsync(0, () => PartitionLog.OpenAsync(readDir, new LogOptions { UseBatchCache = false, RetentionTime = null })).Result;
        string segments = string.Join(':', log.Segments.Select(s => s.DataPath)); // in offset order
        var ratios = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            bool fioFirst = round % 2 == 1;
            string pattern = $"--rw=read --bs={SegmentReader.IoSize / 1024}k --readonly --file_service_type=sequential";
            double fio = fioFirst ? Fio(segments, pattern) : 0;
            double eddy = group.InvokeAsync(0, () => ReadPassAsync(log, 1 << 20)).Result;
            if (!fioFirst)
            {
                fio = Fio(segments, pattern);
            }
            Report($"cold sequential read, 1 MiB reads, round {round + 1} ({(fioFirst ? "fio" : "eddy")} first)", eddy, fio);
            ratios.Add(fio > 0 ? eddy / fio : 0);
        }
        group.InvokeAsync(0, () => log.DisposeAsync()).Wait();
        ratios.Sort();
        Console.WriteLine($"cold sequential read: median ratio {Median(ratios):P0} (lowest {ratios[0]:P0}, highest {ratios[^1]:P0}) over {rounds} rounds");
    }

    /// <summary>The middle of sorted values (the mean of the two middle ones for an even count).</summary>
    internal static double Median(List<double> sorted)
        => sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

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
        return await ReadPassAsync(log, maxBytes);
    }

    /// <summary>Reads the whole log from its start, <paramref name="maxBytes"/> at a time; bytes per second.</summary>
    private static async ValueTask<double> ReadPassAsync(PartitionLog log, int maxBytes)
    {
        var clock = Stopwatch.StartNew();
        long offset = log.StartOffset;
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
        var builder = new RecordBatchBuilder();
        builder.Add(1_700_000_000_000, [], new byte[size - 80], keyIsNull: true);
        return builder.Finish().ToArray();
    }

    private static int s_fioCpu;

    /// <summary>fio's bandwidth in bytes/s for the pattern with O_DIRECT on <paramref name="files"/> (colon-separated),
    /// or 0 when fio is missing.</summary>
    private static double Fio(string files, string pattern)
    {
        try
        {
            var info = new ProcessStartInfo("fio", $"--name=eddy --filename={files} --direct=1 --ioengine=psync --cpus_allowed={s_fioCpu} {pattern} --output-format=terse --terse-version=3")
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
