using Eddy.Native;
using Eddy.Observability;

namespace Eddy.Storage;

// Truncating the suffix (Raft's diverged tail).
public sealed partial class PartitionLog
{
    /// <summary>
    /// Removes every batch at or after <paramref name="offset"/>, which must be a batch boundary (Raft truncates a
    /// diverged suffix). Later segments are deleted; the one holding the offset is cut there and becomes active.
    /// The cut is fdatasynced before this completes, so the removed batches cannot come back after a crash.
    /// </summary>
    public async ValueTask TruncateAsync(long offset)
    {
        _shard.AssertCurrent();
        await _gate.EnterAsync();
        try
        {
            ThrowIfUnusable();
            if (offset >= LogEndOffset)
            {
                return;
            }
            if (offset < StartOffset)
            {
                throw new OffsetOutOfRangeException(offset, StartOffset, LogEndOffset);
            }
            // Let the group commit finish first: afterwards no fdatasync is in flight and no append waits.
            await FlushCoreAsync();
            await _tail.SettleAsync(); // and no zeros land after the cut
            var target = SegmentFor(offset);
            long position = 0;
            if (offset > target.BaseOffset && offset < target.NextOffset)
            {
                var found = await _reader.FindAsync(target, target.Index.FindPosition(offset - target.BaseOffset), offset, byTimestamp: false);
                if (found.Position < 0 || found.BaseOffset != offset)
                {
                    throw new ArgumentException($"offset {offset} is not the start of a batch (its batch starts at {found.BaseOffset})", nameof(offset));
                }
                position = found.Position;
            }
            else if (offset >= target.NextOffset)
            {
                position = target.Size; // offset falls in a gap after this segment's last batch
            }
            bool removedFiles = false;
            while (Active != target)
            {
                var last = Active;
                _segments.RemoveAt(_segments.Count - 1);
                Retire(last);
                removedFiles = true;
            }
            try
            {
                target.File.Truncate(position);
                target.Size = position;
                target.NextOffset = Math.Max(offset, target.BaseOffset);
                target.Index.TruncateTo((int)position);
                _reader.Invalidate(); // windows read before the cut may hold the removed batches
                if (target.Sealed)
                {
                    target.Sealed = false;
                    await _shard.Files.DeleteFileAsync(target.IndexPath);
                    removedFiles = true;
                }
                _tail.Detach();
                await _tail.AttachAsync(target);
                await target.File.FlushDataAsync(); // makes the new size durable
                if (removedFiles)
                {
                    await _shard.Files.BarrierAsync(); // the unlinks of retired segments, before the directory fsync
                    await Options.Files.SyncDirectoryAsync(Directory);
                }
            }
            catch (NativeException e)
            {
                throw OnWriteFailure(e, "truncate");
            }
            DurableOffset = Math.Min(DurableOffset, LogEndOffset);
            _durableBytes = target.Size;
            _cache?.Truncate(offset);
        }
        finally
        {
            _gate.Exit();
        }
    }
}
