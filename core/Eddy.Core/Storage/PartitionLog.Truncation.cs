using Eddy.Native;
using Eddy.Observability;

namespace Eddy.Storage;

// Truncating the suffix (Raft's diverged tail), and replacing the whole log (a follower behind its leader's start).
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

    /// <summary>
    /// Replaces the whole log with an empty one whose next offset is <paramref name="offset"/>, in a segment of
    /// <paramref name="term"/>: a Raft follower installing its leader's snapshot, because its log ends before the
    /// leader's start or diverged from it. Segments go newest first, so a crash part way leaves a prefix of the old log,
    /// which the caller tells apart by the new start it recorded first. Durable when this completes.
    /// </summary>
    public async ValueTask RestartAtAsync(long offset, int term)
    {
        _shard.AssertCurrent();
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        await _gate.EnterAsync();
        try
        {
            ThrowIfUnusable();
            await FlushCoreAsync(); // no fdatasync in flight and no append waiting
            await _tail.SettleAsync();
            _tail.Detach();
            try
            {
                while (_segments.Count > 0)
                {
                    var newest = _segments[^1];
                    _segments.RemoveAt(_segments.Count - 1);
                    Retire(newest);
                }
                // The unlinks first: the new segment may take the name of one that went.
                await _shard.Files.BarrierAsync();
                var fresh = CreateSegment(Directory, Options, offset, term, _shard.Clock.NowNanos);
                _segments.Add(fresh);
                await _tail.AttachAsync(fresh);
                await Options.Files.SyncDirectoryAsync(Directory);
            }
            catch (NativeException e)
            {
                throw OnWriteFailure(e, "restart");
            }
            _reader.Invalidate();
            _cache?.Truncate(long.MinValue);
            StartOffset = offset;
            DurableOffset = offset;
            _durableBytes = 0;
            Log.Info(Subsystem, $"{Directory}: the log starts again, empty, at offset {offset} (term {term})");
        }
        finally
        {
            _gate.Exit();
        }
    }
}
