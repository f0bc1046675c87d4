namespace Eddy.Runtime.Files;

/// <summary>
/// A shard's filesystem metadata calls (create, delete, rename, look up and list files and directories), made by one
/// thread of the shard's own so that the shard never waits on them: removing a topic directory of thousands of
/// segments can take seconds, and the partitions sharing the shard keep serving meanwhile. Calls run one at a time,
/// in the order made, and complete back on the shard with the call's answer or its exception. Works alike on both
/// I/O backends (io_uring has no directory listing, and the epoll backend's file worker must stay free for data).
/// The thread starts with the first call. Every member except <see cref="Dispose"/> is called on the shard's thread.
/// </summary>
public sealed class ShardFiles : IDisposable
{
    /// <summary>Calls handed to the file thread at once; more wait on the shard, in order.</summary>
    public const int QueueCapacity = 256;

    private static readonly Action<object?> s_complete = static state => ((FileJob)state!).Complete();

    private readonly Shard _shard;
    private readonly Stack<FileJob> _pool = new();
    private WorkerQueue<FileJob>? _requests;
    private Thread? _thread;
    private bool _disposed;

    internal ShardFiles(Shard shard) => _shard = shard;

    public ValueTask CreateDirectoryAsync(string path) => Submit(FileJobKind.CreateDirectory, path).Done();

    /// <summary>Removes a directory (with everything in it when <paramref name="recursive"/>); nothing when there is
    /// none.</summary>
    public ValueTask DeleteDirectoryAsync(string path, bool recursive) => Submit(FileJobKind.DeleteDirectory, path, flag: recursive).Done();

    /// <summary>Removes a file; nothing when there is none.</summary>
    public ValueTask DeleteFileAsync(string path) => Submit(FileJobKind.DeleteFile, path).Done();

    public ValueTask MoveFileAsync(string from, string to, bool overwrite) => Submit(FileJobKind.MoveFile, from, to, flag: overwrite).Done();

    public ValueTask<bool> FileExistsAsync(string path) => Submit(FileJobKind.FileExists, path).Answer();

    public ValueTask<bool> DirectoryExistsAsync(string path) => Submit(FileJobKind.DirectoryExists, path).Answer();

    /// <summary>Paths of the files in <paramref name="directory"/> whose names match <paramref name="pattern"/>
    /// (* and ?), in no particular order; none when the directory does not exist.</summary>
    public ValueTask<string[]> EnumerateFilesAsync(string directory, string pattern) => Submit(FileJobKind.EnumerateFiles, directory, pattern: pattern).Entries();

    /// <summary>Paths of the files and directories in <paramref name="directory"/>; none when it does not exist.</summary>
    public ValueTask<string[]> EnumerateEntriesAsync(string directory) => Submit(FileJobKind.EnumerateEntries, directory).Entries();

    /// <summary>Completes once every call made before it has run (calls run in order): for work that made calls
    /// without waiting for them.</summary>
    public ValueTask BarrierAsync() => Submit(FileJobKind.Barrier, "").Done();

    private FileJob Submit(FileJobKind kind, string path, string? target = null, string? pattern = null, bool flag = false)
    {
        _shard.AssertCurrent();
        ObjectDisposedException.ThrowIf(_disposed, this);
        var job = _pool.Count > 0 ? _pool.Pop() : new FileJob(this);
        job.Reset();
        job.Kind = kind;
        job.Path = path;
        job.Target = target;
        job.Pattern = pattern;
        job.Flag = flag;
        if (_requests is null)
        {
            _requests = new WorkerQueue<FileJob>(QueueCapacity);
            _thread = new Thread(Run) { Name = $"eddy-shard-{_shard.Id}-meta", IsBackground = true };
            _thread.Start();
        }
        _requests.Enqueue(job);
        return job;
    }

    internal void Recycle(FileJob job) => _pool.Push(job);

    /// <summary>On the shard, as a call comes back: its place in the queue is free for the next that waits.</summary>
    internal void Advance() => _requests!.MoveOverflow();

    private void Run()
    {
        var requests = _requests!;
        while (requests.WaitForWork() && requests.TryDequeue(out var job))
        {
            job.Run();
            try
            {
                _shard.PostCore(s_complete, job);
            }
            catch (InvalidOperationException)
            {
                return; // the shard has stopped: nobody waits for the answer
            }
        }
    }

    /// <summary>Stops the thread once the call it is making returns, then makes here the calls it had not started:
    /// nobody waits for their answers any more (the shard is stopping), but an unlink of a segment retired as the shard
    /// stopped must still happen, or the segment is back at the next start. Called by the shard as its loop ends.</summary>
    public void Dispose()
    {
        _disposed = true;
        if (_requests is not null)
        {
            _requests.Stop();
            _thread!.Join();
            do
            {
                while (_requests.TryDequeue(out var job))
                {
                    job.Run();
                }
            }
            while (_requests.MoveOverflow());
            _requests.Dispose();
        }
    }
}

internal static class FileJobAwaiting
{
    public static ValueTask Done(this FileJob job) => new(job, job.Version);

    public static ValueTask<bool> Answer(this FileJob job) => new(job, job.Version);

    public static ValueTask<string[]> Entries(this FileJob job) => new(job, job.Version);
}
