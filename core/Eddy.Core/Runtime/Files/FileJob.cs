using System.Threading.Tasks.Sources;

namespace Eddy.Runtime.Files;

internal enum FileJobKind : byte
{
    CreateDirectory,
    DeleteDirectory,
    DeleteFile,
    MoveFile,
    FileExists,
    DirectoryExists,
    EnumerateFiles,
    EnumerateEntries,
    Barrier,
}

/// <summary>
/// One filesystem metadata call for a shard's <see cref="ShardFiles"/> thread, and its awaitable. Pooled per shard:
/// filled and awaited on the shard, run on the file thread, completed back on the shard (so the continuation runs
/// inline there). One completion core serves the three result shapes the API returns.
/// </summary>
internal sealed class FileJob : IValueTaskSource, IValueTaskSource<bool>, IValueTaskSource<string[]>
{
    private readonly ShardFiles _owner;
    private ShardCompletionCore<bool> _core;

    public FileJob(ShardFiles owner) => _owner = owner;

    public FileJobKind Kind;
    public string Path = "";
    public string? Target;
    public string? Pattern;
    public bool Flag;

    // Written by the file thread before it hands the job back; read on the shard after.
    public bool Answer;
    public string[]? Entries;
    public Exception? Error;

    public short Version => _core.Version;

    public void Reset() => _core.Reset();

    /// <summary>The file thread's part: makes the call, keeping its answer or its exception for the shard.</summary>
    public void Run()
    {
        try
        {
            switch (Kind)
            {
                case FileJobKind.CreateDirectory:
                    System.IO.Directory.CreateDirectory(Path);
                    break;
                case FileJobKind.DeleteDirectory:
                    if (System.IO.Directory.Exists(Path))
                    {
                        System.IO.Directory.Delete(Path, Flag);
                    }
                    break;
                case FileJobKind.DeleteFile:
                    System.IO.File.Delete(Path);
                    break;
                case FileJobKind.MoveFile:
                    System.IO.File.Move(Path, Target!, Flag);
                    break;
                case FileJobKind.FileExists:
                    Answer = System.IO.File.Exists(Path);
                    break;
                case FileJobKind.DirectoryExists:
                    Answer = System.IO.Directory.Exists(Path);
                    break;
                case FileJobKind.EnumerateFiles:
                    Entries = System.IO.Directory.Exists(Path) ? System.IO.Directory.GetFiles(Path, Pattern!) : [];
                    break;
                case FileJobKind.EnumerateEntries:
                    Entries = System.IO.Directory.Exists(Path) ? System.IO.Directory.GetFileSystemEntries(Path) : [];
                    break;
                case FileJobKind.Barrier:
                    break;
            }
        }
        catch (Exception e)
        {
            Error = e;
        }
    }

    /// <summary>The shard's part, after the file thread handed the job back.</summary>
    public void Complete()
    {
        _owner.Advance();
        if (Error is { } error)
        {
            _core.SetException(error); // captured with the file thread's stack, rethrown to the awaiter
            return;
        }
        _core.SetResult(Answer);
    }

    private bool Finish(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Path = "";
            Target = null;
            Pattern = null;
            Error = null;
            Answer = false;
            _owner.Recycle(this);
        }
    }

    void IValueTaskSource.GetResult(short token) => Finish(token);

    bool IValueTaskSource<bool>.GetResult(short token) => Finish(token);

    string[] IValueTaskSource<string[]>.GetResult(short token)
    {
        var entries = Entries;
        Entries = null;
        Finish(token);
        return entries!;
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
