using Eddy.Buffers;

namespace Eddy.Storage;

/// <summary>
/// A run of one segment's bytes read from disk into one page-aligned buffer: file position <see cref="Base"/> is
/// buffer offset 0, and [<see cref="Start"/>, <see cref="End"/>) holds the segment's data. Reads return views into it
/// and each holds a reference, as does the <see cref="SegmentReader"/> while it keeps the window for the next read,
/// so the buffer goes back to the pool only when the last of them lets go. While a view holds the window, bytes below
/// <see cref="End"/> are never written again: it only grows at its end, into memory no view covers; once no view holds
/// it, the reader may reopen it on later bytes in the same buffer. Pooled per reader; shard thread only.
/// </summary>
internal sealed class ReadWindow : ReadOwner
{
    private readonly Stack<ReadWindow> _home;
    private int _refs;

    public ReadWindow(SegmentReader reader, Stack<ReadWindow> home)
    {
        Reader = reader;
        _home = home;
        BudgetNode = new LinkedListNode<ReadWindow>(this);
    }

    public SegmentReader Reader { get; }

    /// <summary>This window's place in the shard's <see cref="ReadWindowBudget"/> while a reader keeps it.</summary>
    public LinkedListNode<ReadWindow> BudgetNode { get; }

    public AlignedBuffer? Buffer { get; private set; }

    public Segment? Segment { get; private set; }

    /// <summary>The reader's generation when the window was read: a truncation bumps it, and older windows are
    /// never reused (their bytes may be gone from the file).</summary>
    public int Generation { get; private set; }

    /// <summary>File position of the buffer's first byte.</summary>
    public long Base { get; private set; }

    /// <summary>File position of the first byte read (page-aligned).</summary>
    public long Start { get; private set; }

    /// <summary>File position after the last byte of segment data in the window.</summary>
    public long End { get; private set; }

    /// <summary>File position after the last byte read: past <see cref="End"/> only when the segment ended inside
    /// the last page read (the rest of that page is padding, or data appended since).</summary>
    public long DiskEnd { get; private set; }

    /// <summary>Where the last read from this window ended: the next sequential read asks for this offset...</summary>
    public long NextOffset { get; set; } = -1;

    /// <summary>...and its batch starts at this file position.</summary>
    public long NextPosition { get; set; }

    /// <summary>Reader's use counter at the last read, to pick which of its windows to drop first.</summary>
    public long LastUse { get; set; }

    /// <summary>File position after the buffer's last byte.</summary>
    public long Limit => Base + Buffer!.Length;

    /// <summary>The window can grow at its end in place: the last read ended on a page boundary, not inside the
    /// segment's last page (rereading that page would rewrite bytes a view may be sending).</summary>
    public bool CanGrow => DiskEnd == End && (End & (AlignedBuffer.Alignment - 1)) == 0 && End < Limit;

    public ReadOnlySpan<byte> From(long position) => Buffer!.Span[(int)(position - Base)..(int)(End - Base)];

    public ReadOnlyMemory<byte> Slice(long position, int length) => Buffer!.Memory.Slice((int)(position - Base), length);

    /// <summary>Maps an empty buffer (or its own, to reuse it) to <paramref name="segment"/>'s bytes from
    /// <paramref name="start"/>; one reference, the caller's.</summary>
    public void Open(AlignedBuffer buffer, Segment segment, int generation, long basePosition, long start)
    {
        Buffer = buffer;
        Segment = segment;
        Generation = generation;
        Base = basePosition;
        Start = start;
        End = start;
        DiskEnd = start;
        NextOffset = -1;
        NextPosition = 0;
        _refs = 1;
    }

    /// <summary>Records that [<see cref="DiskEnd"/>, <see cref="DiskEnd"/> + <paramref name="bytes"/>) was read (or
    /// copied) into the buffer; the segment's data ended at <paramref name="segmentSize"/> then.</summary>
    public void Grew(int bytes, long segmentSize)
    {
        DiskEnd += bytes;
        End = Math.Min(DiskEnd, segmentSize);
    }

    public Memory<byte> Free => Buffer!.Memory[(int)(DiskEnd - Base)..];

    public void AddRef() => _refs++;

    /// <summary>More than one holder: a view is still using the memory.</summary>
    public bool IsShared => _refs > 1;

    public override void Release()
    {
        if (--_refs > 0)
        {
            return;
        }
        Buffer!.Return();
        Buffer = null;
        Segment = null;
        _home.Push(this);
    }
}
