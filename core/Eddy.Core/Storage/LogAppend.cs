namespace Eddy.Storage;

/// <summary>Where an append landed: its first batch's base offset, and the log end after it (wait for durability
/// with this).</summary>
public readonly record struct LogAppend(long BaseOffset, long NextOffset);
