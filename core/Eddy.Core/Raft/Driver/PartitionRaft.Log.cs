using System.Buffers;
using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Raft.Driver;

// The log side of a Ready: entries written as batches, and entries read back as batches to send.
public sealed partial class PartitionRaft
{
    /// <summary>Writes a Ready's entries: cut the log where they start, then one write per term, then fdatasync.</summary>
    private async ValueTask WriteAsync(List<Entry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }
        long first = entries[0].Index - 1;
        if (first < _log.LogEndOffset)
        {
            await _log.TruncateAsync(first);
            if (_storage.DropChangesFrom(entries[0].Index) || first < _scannedThrough)
            {
                // Saved before the new entries go in: a crash after them must search the log again from the cut.
                _scannedThrough = Math.Min(_scannedThrough, first);
                await _states.SaveAsync([], [(Group, _scannedThrough, _storage.Changes)]);
            }
        }
        var bytes = new ArrayBufferWriter<byte>();
        for (int i = 0; i < entries.Count;)
        {
            long term = entries[i].Term;
            bytes.ResetWrittenCount();
            for (; i < entries.Count && entries[i].Term == term; i++)
            {
                var entry = entries[i];
                if (entry.Type == EntryType.ConfigChange)
                {
                    Invariant.True(entry.Data.Length == ConfigChange.EncodedLength, "a membership change of the wrong size");
                    // Every replica builds this batch from the entry, so it carries no timestamp of its own: all
                    // replicas hold the same bytes.
                    bytes.Write(ControlRecord.MembershipChange(entry.Index - 1, checked((int)term), entry.Data.Span, NoTimestamp));
                    _storage.AddChange(entry);
                    continue;
                }
                // An entry without data is this node's own no-op as a new leader: only it is ever proposed empty.
                bytes.Write(entry.Data.IsEmpty
                    ? ControlRecord.LeaderChange(entry.Index - 1, checked((int)term), _raft.Id, _log.Options.WallClockMs())
                    : CheckedBatches(entry));
            }
            await _log.WriteAsync(bytes.WrittenMemory, leaderEpoch: checked((int)term), assignOffsets: false);
        }
        await _log.FlushAsync();
    }

    /// <summary>An entry's data must be whole batches holding exactly its offsets, of its term.</summary>
    private static ReadOnlySpan<byte> CheckedBatches(in Entry entry)
    {
        var data = entry.Data.Span;
        long next = entry.Index - 1;
        for (int at = 0; at < data.Length;)
        {
            var batch = new RecordBatch(data[at..]);
            if (data.Length - at < RecordBatch.HeaderSize || batch.TotalSize > data.Length - at
                || batch.BaseOffset != next || batch.PartitionLeaderEpoch != entry.Term)
            {
                throw new RaftInvariantException($"entry {entry} does not hold its own batches (at offset {next})");
            }
            next = batch.LastOffset + 1;
            at += batch.TotalSize;
        }
        if (next != entry.LastIndex)
        {
            throw new RaftInvariantException($"entry {entry} holds batches through offset {next - 1}");
        }
        return data;
    }

    /// <summary>A copy of an append whose entries all carry their batches: what the core read back from storage comes
    /// without data and is read from the log (the batch cache, or disk for a follower far behind). Every entry was
    /// written before the Ready that sends it.</summary>
    private async ValueTask<Message> WithDataAsync(Message message)
    {
        var source = message.Entries!;
        var filled = new Entry[source.Length];
        for (int i = 0; i < source.Length; i++)
        {
            var e = source[i];
            // A proposal still carries its batch; runs read back from storage and the no-op do not.
            filled[i] = e.Data.IsEmpty ? new Entry(e.Term, e.Index, e.LastIndex, e.Type, await ReadBatchesAsync(e.Index - 1, e.LastIndex)) : e;
        }
        message.Entries = filled;
        return message;
    }

    /// <summary>The batches holding offsets [from, end), whole.</summary>
    private async ValueTask<byte[]> ReadBatchesAsync(long from, long end)
    {
        var bytes = new ArrayBufferWriter<byte>();
        for (long offset = from; offset < end;)
        {
            using var read = await _log.ReadAsync(offset, PartitionLogStorage.RunBytes);
            var records = read.Records.Span;
            if (records.IsEmpty)
            {
                throw new RaftInvariantException($"offsets [{offset}, {end}) are missing from {_log.Directory}");
            }
            for (int at = 0; at < records.Length && offset < end;)
            {
                var batch = new RecordBatch(records[at..]);
                if (batch.BaseOffset != offset)
                {
                    throw new RaftInvariantException($"{_log.Directory}: expected a batch at offset {offset}, found one at {batch.BaseOffset}");
                }
                bytes.Write(records.Slice(at, batch.TotalSize));
                offset = batch.LastOffset + 1;
                at += batch.TotalSize;
            }
        }
        return bytes.WrittenSpan.ToArray();
    }
}
