using Eddy.Storage;

namespace Eddy.Cluster;

/// <summary>The first offset of one leader epoch in a partition's log.</summary>
public readonly record struct EpochStart(int Epoch, long StartOffset);

/// <summary>
/// A partition's leader epochs and where each starts, as Kafka's leader-epoch cache keeps them (KIP-101, KIP-279), and
/// the answers OffsetForLeaderEpoch and ListOffsets give from them. The history is not stored apart from the log: a new
/// epoch starts a new segment (the segment's name carries its term, docs/storage.md), so the first segment holding data
/// of each term is where that epoch starts, clipped to the log start offset as Kafka clips its cache. The current
/// epoch comes last, starting at the log end while it has written nothing: Kafka's cache holds exactly these entries,
/// since assigning an epoch drops any earlier one that starts at the same offset.
/// </summary>
public static class LeaderEpochHistory
{
    public const int UndefinedEpoch = -1;
    public const long UndefinedOffset = -1;

    /// <summary>The history of <paramref name="log"/> with <paramref name="currentEpoch"/> as the leader's epoch now.</summary>
    public static List<EpochStart> Of(PartitionLog log, int currentEpoch)
    {
        var history = new List<EpochStart>();
        foreach (var segment in log.Segments)
        {
            if (segment.NextOffset == segment.BaseOffset || segment.NextOffset <= log.StartOffset)
            {
                continue; // empty, or wholly before the log start: no batch of it is in the log
            }
            if (history.Count == 0 || segment.Term > history[^1].Epoch)
            {
                history.Add(new EpochStart(segment.Term, Math.Max(segment.BaseOffset, log.StartOffset)));
            }
        }
        if (history.Count == 0 || currentEpoch > history[^1].Epoch)
        {
            history.Add(new EpochStart(currentEpoch, log.LogEndOffset));
        }
        return history;
    }

    /// <summary>The term of the last segment holding data, or -1 for an empty log.</summary>
    public static int LastEpochOf(PartitionLog log)
    {
        for (int i = log.Segments.Count - 1; i >= 0; i--)
        {
            var segment = log.Segments[i];
            if (segment.NextOffset > segment.BaseOffset)
            {
                return segment.Term;
            }
        }
        return UndefinedEpoch;
    }

    /// <summary>
    /// Kafka's LeaderEpochFileCache.endOffsetFor: the current (last) epoch ends at the log end; an earlier epoch ends where
    /// the next higher known epoch starts, answered with the highest known epoch at or below it (or, below every known
    /// epoch, with the epoch asked for); an epoch above every known one, or -1, is undefined (-1, -1).
    /// </summary>
    public static (int Epoch, long EndOffset) EndOffsetFor(IReadOnlyList<EpochStart> history, int epoch, long logEndOffset)
    {
        if (epoch == UndefinedEpoch || history.Count == 0)
        {
            return (UndefinedEpoch, UndefinedOffset);
        }
        if (epoch == history[^1].Epoch)
        {
            return (epoch, logEndOffset);
        }
        int higher = -1;
        for (int i = 0; i < history.Count; i++)
        {
            if (history[i].Epoch > epoch)
            {
                higher = i;
                break;
            }
        }
        if (higher < 0)
        {
            return (UndefinedEpoch, UndefinedOffset);
        }
        return higher == 0 ? (epoch, history[0].StartOffset) : (history[higher - 1].Epoch, history[higher].StartOffset);
    }

    /// <summary>The epoch whose range holds <paramref name="offset"/>, or -1 below the first known epoch.</summary>
    public static int EpochOf(IReadOnlyList<EpochStart> history, long offset)
    {
        int epoch = UndefinedEpoch;
        foreach (var entry in history)
        {
            if (entry.StartOffset > offset)
            {
                break;
            }
            epoch = entry.Epoch;
        }
        return epoch;
    }
}
