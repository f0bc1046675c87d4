using Eddy.Observability;
using Eddy.Storage;

namespace Eddy.Raft.Driver;

// Where the log starts: retention moving it (a Raft compaction), a follower behind its leader's start restarting its log
// there (installing the leader's snapshot), and a reopened replica finding it again. A partition's snapshot holds no
// data: the index is the log start offset, and what a replica needs from before it (the term there, the membership) is
// in the image itself.
public sealed partial class PartitionRaft
{
    /// <summary>
    /// Retention on this replica: deletes the oldest segments that retention.bytes and retention.ms let go, but only
    /// segments wholly committed and durable here, never a tail a new leader could still cut. The Raft log is compacted
    /// at the new start first and the snapshot saved, so a restart finds the start and a follower behind it is sent the
    /// snapshot (and restarts its log there). Each replica applies retention to its own log, as Kafka's replicas do.
    /// Returns the log start offset. On the replica's shard.
    /// </summary>
    public async ValueTask<long> ApplyRetentionAsync()
    {
        // Between Readies, and none starts meanwhile: a snapshot being installed, or a cut, must not cross this. It
        // stands in for the pump until done, so a close (or another compaction) waits for it.
        while (_pumping)
        {
            await _pump;
        }
        var done = new TaskCompletionSource();
        _pump = done.Task;
        _pumping = true;
        try
        {
            await CompactAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Stop(e); // a storage failure: fail-stop, as in a Ready
        }
        finally
        {
            _pumping = false;
            done.SetResult();
            Kick();
        }
        return _log.StartOffset;
    }

    private async ValueTask CompactAsync()
    {
        if (Failure is not null)
        {
            return;
        }
        long start = _log.RetentionStart(SettledEnd);
        if (start > _log.StartOffset)
        {
            await CompactAtAsync(start);
        }
    }

    /// <summary>Moves the log start to <paramref name="start"/> (at most the settled end): the Raft log is compacted
    /// there and the snapshot saved, then the log drops what is below it.</summary>
    private async ValueTask CompactAtAsync(long start)
    {
        var image = _raft.Compact(start, []);
        if (image is null)
        {
            return;
        }
        _storage.DropChangesThrough(start);
        _scannedThrough = Math.Max(_scannedThrough, start);
        await _states.SaveSnapshotAsync(Group, image, _scannedThrough, _storage.Changes);
        long size = _log.SizeBytes;
        await _log.SetStartOffsetAsync(start);
        _sizeAtSave -= size - _log.SizeBytes; // counts log written since the last save, not log deleted
    }

    /// <summary>
    /// A follower installs its leader's snapshot: its log ends before the leader's start, or diverged from the leader's
    /// there, so all of it goes and the log starts again, empty, at the snapshot's index; the leader's appends follow from
    /// there. The snapshot is saved first: a crash before the log is replaced is told apart at the next open
    /// (<see cref="StartAtSnapshotAsync"/>). What was derived from the old log (producer snapshots) goes too.
    /// </summary>
    private async ValueTask InstallAsync(SnapshotImage snapshot)
    {
        Log.Info(Subsystem, $"partition group {Group}: node {_raft.Id} restarts its log at offset {snapshot.Index} (term {snapshot.Term}), " +
            $"its leader's start; it held [{_log.StartOffset}, {_log.LogEndOffset})");
        if (Truncating is { } truncating)
        {
            await truncating(0);
        }
        _storage.DropChangesFrom(0);
        _pendingStarts.Clear();
        _scannedThrough = snapshot.Index;
        await _states.SaveSnapshotAsync(Group, snapshot, _scannedThrough, _storage.Changes);
        await _log.RestartAtAsync(snapshot.Index, checked((int)snapshot.Term));
        _sizeAtSave = _log.SizeBytes;
    }

    /// <summary>Makes a reopened replica's log start where its saved snapshot says: segments below it go (a crash came
    /// between the save and their deletion), and a log that does not hold the snapshot's last entry (a crash came while a
    /// leader's snapshot replaced it) starts again, empty, there.</summary>
    private static async ValueTask StartAtSnapshotAsync(PartitionLog log, SnapshotImage snapshot)
    {
        long start = snapshot.Index;
        long first = log.Segments[0].BaseOffset;
        if (first == start)
        {
            return;
        }
        if (first > start)
        {
            throw new LogCorruptedException($"{log.Directory}: the log starts at offset {first}, after its Raft snapshot at {start}");
        }
        if (log.LogEndOffset >= start && log.TermAt(start - 1) == snapshot.Term)
        {
            await log.SetStartOffsetAsync(start);
            return;
        }
        Log.Warn(Subsystem, $"{log.Directory}: the log [{first}, {log.LogEndOffset}) does not hold its Raft snapshot's last entry " +
            $"(offset {start - 1}, term {snapshot.Term}); it starts again there");
        await log.RestartAtAsync(start, checked((int)snapshot.Term));
    }
}
