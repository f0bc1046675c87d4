using System.Diagnostics;
using Eddy.Buffers;
using Eddy.Native;
using Eddy.Storage;

namespace Eddy.Storage.Tests;

/// <summary>Wraps the real file layer and fails chosen operations with a chosen errno.</summary>
public sealed class FaultyFiles : IFileLayer
{
    public Func<string, bool> FailSync { get; set; } = _ => false;

    public int SyncErrno { get; set; } = Errno.EIO;

    public IStorageFile Open(string path, bool create) => new File(DirectFileLayer.Instance.Open(path, create), this);

    public ValueTask SyncDirectoryAsync(string directory) => DirectFileLayer.Instance.SyncDirectoryAsync(directory);

    private sealed class File(IStorageFile inner, FaultyFiles faults) : IStorageFile
    {
        public string Path => inner.Path;
        public long Size => inner.Size;

        public ValueTask<int> ReadAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset) => inner.ReadAsync(buffer, bufferOffset, length, fileOffset);

        // Pooled, as IStorageFile's contract asks: the append path resumes inline after this completes.
        [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
        public async ValueTask WriteAsync(AlignedBuffer buffer, int bufferOffset, int length, long fileOffset, bool dataSync)
        {
            await inner.WriteAsync(buffer, bufferOffset, length, fileOffset, false);
            if (dataSync)
            {
                await FlushDataAsync();
            }
        }

        public ValueTask FlushDataAsync()
            => faults.FailSync(Path) ? ValueTask.FromException(new NativeException($"fdatasync({Path})", faults.SyncErrno)) : inner.FlushDataAsync();

        public ValueTask AllocateAsync(long offset, long length, bool extendSize) => inner.AllocateAsync(offset, length, extendSize);

        public void Truncate(long length) => inner.Truncate(length);

        public void Dispose() => inner.Dispose();
    }
}

public sealed class FaultTests
{
    [Fact]
    public async Task EioFromFdatasyncStopsTheLogAndNothingIsReportedDurable()
    {
        using var scope = new StorageScope();
        var faults = new FaultyFiles();
        var options = new LogOptions { Files = faults };
        var (durable, end, failed, secondError, flushError) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), options);
            await log.AppendAsync(Batches.Make(2, 100));
            faults.FailSync = _ => true;
            var first = await Assert.ThrowsAsync<LogFailedException>(async () => await log.AppendAsync(Batches.Make(2, 100)));
            faults.FailSync = _ => false; // the disk "recovers": the log must still refuse
            var second = await Assert.ThrowsAsync<LogFailedException>(async () => await log.AppendAsync(Batches.Make(2, 100)));
            var flush = await Assert.ThrowsAsync<LogFailedException>(async () => await log.FlushAsync());
            Assert.IsType<NativeException>(first.InnerException);
            return (log.DurableOffset, log.LogEndOffset, log.Failure is not null, second.Message, flush.Message);
        });
        Assert.Equal(2, durable);
        Assert.Equal(4, end); // the second append was written; only its fdatasync failed, so it never became durable
        Assert.True(failed);
        Assert.Contains("stopped", secondError);
        Assert.Contains("stopped", flushError);
    }

    [Fact]
    public async Task EioFromAnIntervalFlushStopsTheLogWithWriteCaching()
    {
        using var scope = new StorageScope();
        var faults = new FaultyFiles { FailSync = _ => true };
        var options = new LogOptions { Files = faults, FlushEveryAppend = false, FlushInterval = TimeSpan.FromMilliseconds(10) };
        var (durable, end) = await scope.Run(async () =>
        {
            await using var log = await PartitionLog.OpenAsync(scope.LogDir(), options);
            await log.AppendAsync(Batches.Make(2, 100));
            await Runtime.Shard.Current!.Delay(TimeSpan.FromMilliseconds(200));
            await Assert.ThrowsAsync<LogFailedException>(async () => await log.AppendAsync(Batches.Make(2, 100)));
            return (log.DurableOffset, log.LogEndOffset);
        });
        Assert.Equal(0, durable);
        Assert.Equal(2, end);
    }

    [SmallFilesystemFact]
    public async Task EnospcFailsTheAppendWholeAndAppendsResumeWhenSpaceReturns()
    {
        string mount = Path.Combine(Path.GetTempPath(), "eddy-enospc-" + Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(mount);
        Assert.True(Mount(mount), "mounting the tmpfs failed although the probe succeeded");
        try
        {
            using var scope = new StorageScope(root: mount);
            var options = new LogOptions { PreallocateBytes = 256 << 10, RetentionTime = null };
            var result = await scope.Run(async () =>
            {
                await using var log = await PartitionLog.OpenAsync(scope.LogDir(), options);
                var batch = Batches.Make(1, 60_000);
                int appended = 0;
                DiskFullException? full = null;
                for (int i = 0; i < 200 && full is null; i++)
                {
                    try
                    {
                        await log.AppendAsync(batch);
                        appended++;
                    }
                    catch (DiskFullException e)
                    {
                        full = e;
                    }
                }
                Assert.NotNull(full);
                long endAtFull = log.LogEndOffset;
                var seen = await Batches.ReadAll(log, 0);
                // Still full: fails again, and nothing partial shows.
                await Assert.ThrowsAsync<DiskFullException>(async () => await log.AppendAsync(batch));
                Assert.Equal(endAtFull, log.LogEndOffset);
                return (appended, endAtFull, seen.Count, full.Message);
            });
            Assert.True(result.appended > 0);
            Assert.Equal(result.appended, result.endAtFull);
            Assert.Equal(result.appended, result.Item3);
            Assert.Contains("disk is full", result.Message);

            // Space returns: the tmpfs is full of the log's own data, so grow it.
            Assert.True(Remount(mount, "4m"));
            var after = await scope.Run(async () =>
            {
                await using var log = await PartitionLog.OpenAsync(scope.LogDir(), options);
                long next = await log.AppendAsync(Batches.Make(1, 60_000));
                return (next, (await Batches.ReadAll(log, 0)).Count);
            });
            Assert.Equal(result.appended, after.next);
            Assert.Equal(result.appended + 1, after.Item2);
        }
        finally
        {
            Run("umount", mount);
            Directory.Delete(mount, recursive: true);
        }
    }

    internal static bool Mount(string dir) => Run("mount", $"-t tmpfs -o size=2m tmpfs {dir}") && ProbeDirectIo(dir);

    private static bool Remount(string dir, string size) => Run("mount", $"-o remount,size={size} {dir}");

    /// <summary>tmpfs takes O_DIRECT only on newer kernels (6.6+): probe with dd.</summary>
    private static bool ProbeDirectIo(string dir)
    {
        bool ok = Run("dd", $"if=/dev/zero of={dir}/probe bs=4096 count=1 oflag=direct");
        System.IO.File.Delete(Path.Combine(dir, "probe"));
        if (!ok)
        {
            Run("umount", dir);
        }
        return ok;
    }

    internal static bool Run(string command, string arguments)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit(10_000);
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

/// <summary>A fact that needs a size-limited filesystem with O_DIRECT (a 2 MiB tmpfs, mounted as root); skipped,
/// saying why, where the environment cannot mount one.</summary>
public sealed class SmallFilesystemFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(Probe);

    public SmallFilesystemFactAttribute()
    {
        if (Unavailable.Value is { } why)
        {
            Skip = why;
        }
    }

    private static string? Probe()
    {
        string dir = Path.Combine(Path.GetTempPath(), "eddy-probe-" + Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dir);
        try
        {
            if (!FaultTests.Run("mount", $"-t tmpfs -o size=2m tmpfs {dir}"))
            {
                return "cannot mount a size-limited tmpfs (needs root and CAP_SYS_ADMIN): ENOSPC on a real filesystem is not tested here";
            }
            bool direct = FaultTests.Run("dd", $"if=/dev/zero of={dir}/probe bs=4096 count=1 oflag=direct");
            FaultTests.Run("umount", dir);
            return direct ? null : "this kernel's tmpfs refuses O_DIRECT (before 6.6): ENOSPC on a real filesystem is not tested here";
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
