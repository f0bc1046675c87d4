using Eddy.Native;
using Eddy.Observability;
using Eddy.Records;
using Eddy.Storage;

namespace Eddy.Cluster.Producers;

/// <summary>What <see cref="ProducerStateLoader.LoadAsync"/> did.</summary>
/// <param name="Table">The restored state.</param>
/// <param name="SnapshotOffset">The offset of the snapshot it started from; -1 when it replayed from the log start.</param>
/// <param name="ReplayedBatches">Batches read back from the log after the snapshot.</param>
/// <param name="RejectedSnapshots">Snapshots found unusable (damaged, or beyond the log end) and deleted.</param>
public readonly record struct ProducerStateLoad(ProducerStateTable Table, long SnapshotOffset, long ReplayedBatches, int RejectedSnapshots);

/// <summary>
/// Restores a partition's producer state when its log opens, as Kafka's UnifiedLog.rebuildProducerState does:
/// the newest valid snapshot between the log start and the log end, then every batch from its offset to the log
/// end. A damaged snapshot is reported, deleted and skipped (the next older one, or the whole log, takes its
/// place); a snapshot beyond the log end (the log lost an unflushed tail, or was truncated) describes batches that
/// are gone and is deleted. Producers idle past the expiration are dropped at the end.
/// </summary>
public static class ProducerStateLoader
{
    private const string Subsystem = "producers";
    private const int ReadChunk = 1 << 20;

    /// <summary>Runs on the log's shard, before the partition takes appends.</summary>
    public static async ValueTask<ProducerStateLoad> LoadAsync(PartitionLog log, long nowMs, long expirationMs = ProducerStateTable.DefaultExpirationMs)
    {
        string directory = log.Directory;
        var files = log.Options.Files;
        await ProducerSnapshot.DeleteTemporariesAsync(directory);
        var table = new ProducerStateTable();
        long snapshotOffset = -1;
        int rejected = 0;
        var offsets = await ProducerSnapshot.ListAsync(directory);
        for (int i = offsets.Count - 1; i >= 0 && snapshotOffset < 0; i--)
        {
            long offset = offsets[i];
            string name = Path.Combine(directory, ProducerSnapshot.FileName(offset));
            if (offset > log.LogEndOffset)
            {
                Log.Warn(Subsystem, $"{name}: beyond the log end {log.LogEndOffset}; deleted");
                await log.Shard.Files.DeleteFileAsync(name);
                rejected++;
                continue;
            }
            if (offset < log.StartOffset)
            {
                // The batches between it and the log start are gone, so replaying cannot bring it up to date; older
                // ones are no better.
                break;
            }
            try
            {
                await ProducerSnapshot.ReadAsync(directory, offset, table, files);
                snapshotOffset = offset;
            }
            catch (CorruptSnapshotException e)
            {
                Log.Warn(Subsystem, $"{name}: damaged ({e.Message}); deleted, falling back to an older snapshot or the log");
                await log.Shard.Files.DeleteFileAsync(name);
                table.Clear();
                rejected++;
            }
            catch (Exception e) when (e is IOException or NativeException or ArgumentException)
            {
                Log.Warn(Subsystem, $"{name}: unreadable ({e.Message}); ignored, falling back to an older snapshot or the log");
                table.Clear();
                rejected++;
            }
        }
        long from = snapshotOffset >= 0 ? snapshotOffset : log.StartOffset;
        long replayed = await ReplayAsync(log, table, from);
        table.BatchesSinceSnapshot = replayed;
        int expired = table.RemoveExpired(nowMs, expirationMs);
        if (snapshotOffset >= 0 || replayed > 0 || rejected > 0)
        {
            Log.Info(Subsystem, $"{directory}: {table.Count} producers restored (snapshot at {(snapshotOffset >= 0 ? snapshotOffset.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none")}, {replayed} batches replayed to {log.LogEndOffset}, {expired} expired)");
        }
        return new ProducerStateLoad(table, snapshotOffset, replayed, rejected);
    }

    /// <summary>Applies every batch of <paramref name="log"/> from <paramref name="from"/> to its end; returns how many
    /// batches with a producer id it saw.</summary>
    public static async ValueTask<long> ReplayAsync(PartitionLog log, ProducerStateTable table, long from)
    {
        long replayed = 0;
        long offset = from;
        while (offset < log.LogEndOffset)
        {
            using var read = await log.ReadAsync(offset, ReadChunk);
            if (read.IsEmpty)
            {
                break;
            }
            foreach (var batch in RecordBatch.Enumerate(read.Records.Span))
            {
                // A read starts at the batch holding the offset asked for: skip what the state already has.
                if (batch.LastOffset < offset)
                {
                    continue;
                }
                if (batch.ProducerId >= 0)
                {
                    table.Replay(batch);
                    replayed++;
                }
            }
            offset = read.NextOffset;
        }
        return replayed;
    }
}
