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
            if (Truncating is { } truncating)
            {
                await truncating(first);
            }
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
                // An entry without data is this node's own no-op as a new leader: only it is ever proposed empty. Batches
                // were checked where they came in (ProposeAsync, Step), so they are not checksummed again here.
                bytes.Write(entry.Data.IsEmpty
                    ? ControlRecord.LeaderChange(entry.Index - 1, checked((int)term), _raft.Id, _log.Options.WallClockMs())
                    : entry.Data.Span);
            }
            await _log.WriteAsync(bytes.WrittenMemory, leaderEpoch: checked((int)term), assignOffsets: false);
        }
        await _log.FlushAsync();
    }

    /// <summary>Why an entry that came from a peer cannot go into the log, or null: a membership change must be one,
    /// and a batch entry whole, checksummed batches holding exactly its offsets, of its term.</summary>
    private static string? WhatIsWrongWith(in Entry entry)
    {
        var data = entry.Data.Span;
        if (entry.Type == EntryType.ConfigChange)
        {
            return data.Length == ConfigChange.EncodedLength && data[0] <= (byte)ConfigChangeKind.Remove
                ? null
                : $"entry {entry} is no membership change ({data.Length} bytes)";
        }
        long next = entry.Index - 1;
        for (int at = 0; at < data.Length;)
        {
            var check = RecordBatch.Check(data[at..], verifyCrc: true, out int size, PartitionLog.MaxBatchSize);
            if (check != BatchCheck.Ok)
            {
                return $"entry {entry} holds a bad batch at offset {next} ({check})";
            }
            var batch = new RecordBatch(data.Slice(at, size));
            if (batch.BaseOffset != next || batch.PartitionLeaderEpoch != entry.Term)
            {
                return $"entry {entry} holds a batch at offset {batch.BaseOffset} of epoch {batch.PartitionLeaderEpoch}, not its own at {next}";
            }
            if (ControlRecord.ReadMembershipChange(data.Slice(at, size)) is not null)
            {
                // Membership changes travel as config entries; one inside batches would be found as a change at a restart.
                return $"entry {entry} holds a membership change batch at offset {next}";
            }
            next = batch.LastOffset + 1;
            at += size;
        }
        return next == entry.LastIndex ? null : $"entry {entry} holds batches through offset {next - 1}";
    }

    /// <summary>Why a peer's message must be dropped, or null: an append whose entries cannot go into the log or do
    /// not follow its previous index, an acknowledgement past this log's end, a commit past it, or a snapshot, which
    /// partitions do not install yet.</summary>
    private string? WhatIsWrongWith(in Message message)
    {
        switch (message.Type)
        {
            case MessageType.Snapshot:
                return "a snapshot (installing a leader's log start is not supported yet)";
            case MessageType.AppendResponse when !message.Reject && message.Index > _raft.LastIndex:
                return $"an acknowledgement of index {message.Index}, past this log's end {_raft.LastIndex}";
            case MessageType.Heartbeat when message.Commit > _raft.LastIndex:
                return $"a commit of {message.Commit}, past this log's end {_raft.LastIndex}";
        }
        long expected = message.Index + 1;
        foreach (var entry in message.Entries ?? [])
        {
            if (entry.Index != expected)
            {
                return $"entry {entry} does not follow index {expected - 1}";
            }
            expected = entry.LastIndex + 1;
            if (entry.Data.IsEmpty && entry.Type == EntryType.Normal)
            {
                return $"entry {entry} came without its batches";
            }
            if (WhatIsWrongWith(entry) is { } wrong)
            {
                return wrong;
            }
        }
        return null;
    }

    /// <summary>Entries as the core gets them from a peer: one per batch (a membership change stays one).</summary>
    private static Entry[] OneBatchEach(Entry[] entries)
    {
        int batches = 0;
        foreach (var entry in entries)
        {
            batches += entry.Type == EntryType.ConfigChange ? 1 : CountBatches(entry.Data.Span);
        }
        if (batches == entries.Length)
        {
            return entries;
        }
        var split = new Entry[batches];
        int n = 0;
        foreach (var entry in entries)
        {
            if (entry.Type == EntryType.ConfigChange)
            {
                split[n++] = entry;
                continue;
            }
            int at = 0;
            foreach (var batch in new BatchEnumerator(entry.Data.Span))
            {
                split[n++] = new Entry(entry.Term, batch.BaseOffset + 1, batch.LastOffset + 1, EntryType.Normal, entry.Data.Slice(at, batch.TotalSize));
                at += batch.TotalSize;
            }
        }
        return split;
    }

    private static int CountBatches(ReadOnlySpan<byte> data)
    {
        int count = 0;
        foreach (var _ in new BatchEnumerator(data))
        {
            count++;
        }
        return count;
    }

    /// <summary>
    /// A copy of an append whose entries all carry their batches: what the core read back from storage comes without
    /// data and is read from the log (the batch cache, or disk for a follower far behind). Null when the log no longer
    /// holds the entries: an append a step-down left queued, whose offsets a later leader's entries took.
    /// </summary>
    private async ValueTask<Message?> WithDataAsync(Message message)
    {
        var source = message.Entries!;
        foreach (var entry in source)
        {
            if (_raft.Log.Term(entry.LastIndex) != entry.Term)
            {
                return null;
            }
        }
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
            foreach (var batch in new BatchEnumerator(records))
            {
                if (offset >= end)
                {
                    break;
                }
                if (batch.BaseOffset != offset)
                {
                    throw new RaftInvariantException($"{_log.Directory}: expected a batch at offset {offset}, found one at {batch.BaseOffset}");
                }
                bytes.Write(batch.Bytes);
                offset = batch.LastOffset + 1;
            }
        }
        return bytes.WrittenSpan.ToArray();
    }
}
