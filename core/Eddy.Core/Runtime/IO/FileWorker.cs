using Eddy.Native;

namespace Eddy.Runtime.IO;

/// <summary>
/// The epoll backend's file I/O: epoll cannot wait for regular files, so a dedicated thread per shard makes the
/// blocking pread/pwrite/fdatasync calls and hands results back through an SPSC queue, waking the shard. The
/// shard's thread never blocks on a disk. Requests run in submission order.
/// </summary>
internal sealed unsafe class FileWorker : IDisposable
{
    private const int QueueCapacity = 1024;

    private readonly WorkerQueue<IoOperation> _requests = new(QueueCapacity);
    private readonly SpscQueue<IoOperation> _completions = new(QueueCapacity * 2);
    private readonly Shard _shard;
    private readonly Thread _thread;

    public FileWorker(Shard shard)
    {
        _shard = shard;
        _thread = new Thread(Run) { Name = $"eddy-shard-{shard.Id}-files", IsBackground = true };
        _thread.Start();
    }

    public bool HasCompletions => !_completions.IsEmpty;

    /// <summary>Shard thread only.</summary>
    public void Submit(IoOperation op) => _requests.Enqueue(op);

    /// <summary>Shard thread only: completes finished operations and moves overflowed requests on.</summary>
    public int Drain()
    {
        int n = 0;
        while (_completions.TryDequeue(out var op))
        {
            op.Complete(op.KernelResult);
            n++;
        }
        _requests.MoveOverflow();
        return n;
    }

    private void Run()
    {
        while (_requests.WaitForWork() && _requests.TryDequeue(out var op))
        {
            op.KernelResult = Execute(op);
            var spin = new SpinWait();
            while (!_completions.TryEnqueue(op))
            {
                spin.SpinOnce();
            }
            _shard.WakeIfSleeping();
        }
    }

    private static int Execute(IoOperation op)
    {
        switch (op.Kind)
        {
            case IoKind.Read:
                return DirectIo.Pread(op.Fd, (void*)op.Buffer, op.Length, op.Offset);
            case IoKind.Write:
                int written = DirectIo.Pwrite(op.Fd, (void*)op.Buffer, op.Length, op.Offset);
                if (op.SyncAfter && written == op.Length)
                {
                    int synced = DirectIo.Fdatasync(op.Fd);
                    return synced < 0 ? synced : written;
                }
                return written;
            case IoKind.DataSync:
                return DirectIo.Fdatasync(op.Fd);
            case IoKind.Sync:
                return DirectIo.Fsync(op.Fd);
            case IoKind.Allocate:
                return DirectIo.Fallocate(op.Fd, op.Mode, op.Offset, op.Extent);
            default:
                return -Errno.EINVAL;
        }
    }

    public void Dispose()
    {
        _requests.Stop();
        _thread.Join();
        _requests.Dispose();
    }
}
