namespace Eddy.Raft.Driver;

// The replica's durable Raft state beside its log: the hard state, and where the membership changes are.
public sealed partial class PartitionRaft
{
    /// <summary>Log bytes written past the last save of the membership list after which it is saved again: bounds what
    /// an open after a crash searches for changes.</summary>
    private const long ScanSaveBytes = 32L << 20;

    private HardState _hardState;
    private HardState _savedHardState;
    private long _sizeAtSave;

    /// <summary>
    /// After a Ready's entries are durable and before its messages leave: the term and the vote are saved whenever they
    /// changed, since a vote or an acknowledgement in a new term must never be forgotten (docs/raft.md). The commit
    /// index alone is not: Raft learns it again from the leader (a restarted replica's high watermark starts lower and
    /// catches up), and saving it would cost an fdatasync per round. It goes with the next save. The membership list is
    /// saved with the log end it was searched through when a change was written, and every <see cref="ScanSaveBytes"/>.
    /// </summary>
    private async ValueTask SaveStateAsync(Ready ready, bool changesWritten)
    {
        if (ready.HasHardState)
        {
            _hardState = ready.HardState;
        }
        bool voted = _hardState.Term != _savedHardState.Term || _hardState.Vote != _savedHardState.Vote;
        if (voted || changesWritten || _log.SizeBytes - _sizeAtSave >= ScanSaveBytes)
        {
            await SaveStateAsync();
        }
    }

    private async ValueTask SaveStateAsync()
    {
        // Not past a log start marker not yet applied: the next open must find it again.
        _scannedThrough = _pendingStarts.Count > 0 ? Math.Min(_log.LogEndOffset, _pendingStarts[0].Offset) : _log.LogEndOffset;
        _sizeAtSave = _log.SizeBytes;
        await _states.SaveAsync([(Group, _hardState)], [(Group, _scannedThrough, _storage.Changes)]);
        _savedHardState = _hardState;
    }
}
