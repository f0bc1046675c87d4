namespace Eddy.Storage;

/// <summary>Where an append landed: its first batch's base offset, the log end after it (wait for durability with
/// this), and the LogAppendTime the log stamped on its batches (-1 where the topic keeps the producers' times).</summary>
public readonly record struct LogAppend(long BaseOffset, long NextOffset, long LogAppendTime = -1);
