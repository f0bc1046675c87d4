using System.Buffers;
using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Raft.Driver;

// The log side of a Ready: entries written as batches, and entries read back as batches to send.
public sealed partial class PartitionRaft
{
    /// <summary>At least the size of the control batches made here (a leader change, a membership change).</summary>
    private const int ControlBatchBytes = 256;

    /// <summary>Writes a Ready's entries: cut the log where they start, then one write per term (or per
    /// <see cref="PartitionLog.MaxBatchSize"/> of batches, the most storage takes in one write), then fdatasync. True
    /// when a membership change was among them.</summary>
    private async ValueTask<bool> WriteAsync(List<Entry> entries)
    {
        if (entries.Count == 0)
        {
            return false;
        }
        bool changes = false;
        long first = entries[0].Index - 1;
        if (first < _log.LogEndOffset)
        {
            if (Truncating is { } truncating)
            {
                await truncating(first);
            }
            await _log.TruncateAsync(first);
            _pendingStarts.RemoveAll(s => s.Offset >= first);
            if (_storage.DropChangesFrom(entries[0].Index) || first < _scannedThrough)
            {
                // Saved before the new entries go in: a crash after them must search the log again from the cut.
                _scannedThrough = Math.Min(_scannedThrough, first);
                await _states.SaveAsync([], [(Group, _scannedThrough, _storage.Changes)]);
            }
        }
        // Only a leader's batches are read back soon (by its consumers, and to send to followers).
        _log.CachesAppends = _raft.Role == Role.Leader;
        // A Ready's batches are gathered into one pooled buffer, one storage write (8 MiB at most) at a time: no large
        // allocation per Ready.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(PartitionLog.MaxBatchSize);
        try
        {
            for (int i = 0; i < entries.Count;)
            {
                long term = entries[i].Term;
                int used = 0;
                for (; i < entries.Count && entries[i].Term == term; i++)
                {
                    var entry = entries[i];
                    // Every entry is one batch, which fits a write alone (checked where it came in).
                    if (used > 0 && used + Math.Max(entry.Data.Length, ControlBatchBytes) > PartitionLog.MaxBatchSize)
                    {
                        await _log.WriteAsync(buffer.AsMemory(0, used), leaderEpoch: checked((int)term), assignOffsets: false);
                        used = 0;
                    }
                    ReadOnlySpan<byte> batch;
                    if (entry.Type == EntryType.ConfigChange)
                    {
                        Invariant.True(entry.Data.Length == ConfigChange.EncodedLength, "a membership change of the wrong size");
                        // Every replica builds this batch from the entry, so it carries no timestamp of its own: all
                        // replicas hold the same bytes.
                        batch = ControlRecord.MembershipChange(entry.Index - 1, checked((int)term), entry.Data.Span, NoTimestamp);
                        _storage.AddChange(entry);
                        changes = true;
                    }
                    else
                    {
                        // An entry without data is this node's own no-op as a new leader: only it is ever proposed
                        // empty. Batches were checked where they came in (ProposeAsync, Step), so they are not
                        // checksummed again here.
                        batch = entry.Data.IsEmpty
                            ? ControlRecord.LeaderChange(entry.Index - 1, checked((int)term), _raft.Id, _log.Options.WallClockMs())
                            : entry.Data.Span;
                        NoteLogStart(batch);
                    }
                    batch.CopyTo(buffer.AsSpan(used));
                    used += batch.Length;
                }
                await _log.WriteAsync(buffer.AsMemory(0, used), leaderEpoch: checked((int)term), assignOffsets: false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        await _log.FlushAsync();
        return changes;
    }

    /// <summary>Why an entry that came from a peer cannot go into the log, or null: a membership change must be one,
    /// and a batch entry whole, checksummed batches (the sums checked here unless they were on the way in) holding
    /// exactly its offsets, of its term.</summary>
    private static string? WhatIsWrongWith(in Entry entry, bool verifyCrc)
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
            var check = RecordBatch.Check(data[at..], verifyCrc, out int size, PartitionLog.MaxBatchSize);
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
    /// not follow its previous index, an acknowledgement past this log's end, a commit past it, or a snapshot that is no
    /// partition's (a partition's carries no data: its index is the leader's log start).</summary>
    private string? WhatIsWrongWith(in Message message, bool verifyCrc)
    {
        switch (message.Type)
        {
            case MessageType.Snapshot when message.Snapshot is not { Data.Length: 0 }:
                return $"a snapshot with {message.Snapshot?.Data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} bytes of data, which no partition's has";
            case MessageType.Snapshot when message.Snapshot.Term > int.MaxValue:
                return $"a snapshot of term {message.Snapshot.Term}, past any leader epoch";
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
            if (WhatIsWrongWith(entry, verifyCrc) is { } wrong)
            {
                return wrong;
            }
        }
        return null;
    }

    /// <summary>The length of the batches in <paramref name="records"/> that hold exactly [from, end) from its start, or
    /// null when they do not (the read began elsewhere or ended short).</summary>
    private static int? WholeBatches(ReadOnlySpan<byte> records, long from, long end)
    {
        int length = 0;
        long next = from;
        foreach (var batch in new BatchEnumerator(records))
        {
            if (batch.BaseOffset != next)
            {
                return null;
            }
            length += batch.TotalSize;
            next = batch.LastOffset + 1;
            if (next >= end)
            {
                return next == end ? length : null;
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
            if (_raft.Log.Term(entry.LastIndex) != entry.Term || entry.Index <= _log.StartOffset)
            {
                return null; // replaced, or deleted by retention since (the follower is sent the snapshot instead)
            }
        }
        var filled = new Entry[source.Length];
        for (int i = 0; i < source.Length; i++)
        {
            var e = source[i];
            // A proposal still carries its batch; runs read back from storage and the no-op do not.
            filled[i] = e.Data.IsEmpty ? new Entry(e.Term, e.Index, e.LastIndex, e.Type, await ReadBatchesAsync(e.Index - 1, e.LastIndex, checked((int)e.Term))) : e;
        }
        message.Entries = filled;
        return message;
    }

    /// <summary>The batches holding offsets [from, end), whole, of term <paramref name="term"/>. Where compaction removed
    /// batches from this log (a run below the commit index), an empty batch stands in for each gap, so the follower's log
    /// holds every offset, as its Raft log must. Such a stand-in in this log (sent here while this replica followed) is a
    /// gap like any other: a follower's run may start or end inside it.</summary>
    private async ValueTask<byte[]> ReadBatchesAsync(long from, long end, int term)
    {
        using (var first = await _log.ReadAsync(from, PartitionLogStorage.RunBytes))
        {
            // Usually one read holds the whole run (runs are cut at most RunBytes long): one copy, at its size.
            if (WholeBatches(first.Records.Span, from, end) is int length)
            {
                return first.Records.Span[..length].ToArray();
            }
        }
        var bytes = new ArrayBufferWriter<byte>();
        long written = from; // the offset after the batches written so far
        long readAt = from;
        while (written < end)
        {
            using var read = await _log.ReadAsync(readAt, PartitionLogStorage.RunBytes);
            bool past = read.Records.IsEmpty;
            foreach (var batch in new BatchEnumerator(read.Records.Span))
            {
                if (batch.BaseOffset >= end)
                {
                    past = true;
                    break;
                }
                readAt = batch.LastOffset + 1;
                if (IsStandIn(batch))
                {
                    continue;
                }
                if (batch.BaseOffset < written || batch.LastOffset >= end)
                {
                    throw new RaftInvariantException($"{_log.Directory}: a batch at offsets [{batch.BaseOffset}, {batch.LastOffset}] crosses the run [{written}, {end})");
                }
                if (batch.BaseOffset > written)
                {
                    bytes.Write(RecordBatchBuilder.Empty(written, batch.BaseOffset - 1, term));
                }
                bytes.Write(batch.Bytes);
                written = batch.LastOffset + 1;
            }
            if ((past || readAt >= end) && written < end)
            {
                bytes.Write(RecordBatchBuilder.Empty(written, end - 1, term));
                written = end;
            }
        }
        return bytes.WrittenSpan.ToArray();
    }

    /// <summary>An empty batch of no producer: what <see cref="ReadBatchesAsync"/> sends for removed records (one a
    /// producer's, which compaction keeps empty for its sequence, is a batch like any other).</summary>
    private static bool IsStandIn(in RecordBatch batch) => batch.RecordCount == 0 && batch.ProducerId < 0 && !batch.IsControl;
}
