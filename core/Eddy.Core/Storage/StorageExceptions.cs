namespace Eddy.Storage;

/// <summary>A storage failure the caller maps to an error for its client.</summary>
public class StorageException : IOException
{
    public StorageException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>Data before the log's tail failed its checks: the partition stays closed until repaired from a replica.</summary>
public sealed class LogCorruptedException(string message) : StorageException(message);

/// <summary>fdatasync failed: the log refuses every further write and never reports those writes durable (fail-stop).</summary>
public sealed class LogFailedException(string message, Exception? inner = null) : StorageException(message, inner);

/// <summary>The disk is full: this append failed whole and nothing of it is visible; a later append may succeed.</summary>
public sealed class DiskFullException(string message, Exception inner) : StorageException(message, inner);

/// <summary>The offset is outside [start offset, log end offset].</summary>
public sealed class OffsetOutOfRangeException(long offset, long start, long end)
    : StorageException($"offset {offset} is outside the log's range [{start}, {end}]")
{
    public long Offset { get; } = offset;
}

/// <summary>The log was closed (its partition deleted, or the node stopping) while the caller still held it.</summary>
public sealed class LogClosedException(string directory) : StorageException($"{directory}: the log is closed");
