namespace Eddy.Cluster;

/// <summary>Where a partition's start offset is recorded durably when DeleteRecords moves it (the node's metadata store),
/// so that a restart opens the log at the same start even though the segments before it are already gone.</summary>
public interface IStartOffsetStore
{
    /// <summary>Records <paramref name="offset"/> for the partition; never moves a recorded start back, and records nothing
    /// for a topic deleted meanwhile. Callable from any shard.</summary>
    ValueTask RecordStartOffsetAsync(TopicInfo topic, int partition, long offset);
}
