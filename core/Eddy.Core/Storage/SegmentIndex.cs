using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Eddy.Hashing;

namespace Eddy.Storage;

/// <summary>One sparse index entry: the batch at <see cref="Position"/> starts at <see cref="RelativeOffset"/>, and
/// the batches from it up to the next entry have timestamps up to <see cref="MaxTimestamp"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IndexEntry
{
    public int RelativeOffset;
    public int Position;
    public long MaxTimestamp;
}

/// <summary>
/// A segment's sparse index: an entry every <c>index.interval.bytes</c> of data. Lives in memory (pooled array
/// sized for a whole segment, so appends do not allocate) and is written to the segment's <c>.index</c> file when
/// the segment closes. The file carries the data size it covers and a CRC, so a stale or torn index is detected
/// and rebuilt from the data.
/// </summary>
public sealed class SegmentIndex : IDisposable
{
    private const uint Magic = 0x45495831; // "EIX1"
    public const int FileHeaderSize = 32;
    private const int EntrySize = 16;

    private IndexEntry[] _entries;
    private int _count;
    private bool _pooled = true;

    public SegmentIndex(int capacity)
    {
        _entries = ArrayPool<IndexEntry>.Shared.Rent(Math.Max(capacity, 16));
    }

    public int Count => _count;

    public ReadOnlySpan<IndexEntry> Entries => _entries.AsSpan(0, _count);

    /// <summary>Highest timestamp in the segment (long.MinValue when empty).</summary>
    public long MaxTimestamp { get; private set; } = long.MinValue;

    /// <summary>Records a batch appended at <paramref name="position"/>: opens an entry when the last one is at least
    /// <paramref name="interval"/> bytes back, else widens the last entry's timestamp range.</summary>
    public void OnBatch(int relativeOffset, int position, long maxTimestamp, int interval)
    {
        MaxTimestamp = Math.Max(MaxTimestamp, maxTimestamp);
        if (_count > 0 && position - _entries[_count - 1].Position < interval)
        {
            ref var last = ref _entries[_count - 1];
            last.MaxTimestamp = Math.Max(last.MaxTimestamp, maxTimestamp);
            return;
        }
        if (_count == _entries.Length)
        {
            var bigger = ArrayPool<IndexEntry>.Shared.Rent(_count * 2);
            Entries.CopyTo(bigger);
            if (_pooled)
            {
                ArrayPool<IndexEntry>.Shared.Return(_entries);
            }
            _entries = bigger;
            _pooled = true;
        }
        _entries[_count++] = new IndexEntry { RelativeOffset = relativeOffset, Position = position, MaxTimestamp = maxTimestamp };
    }

    /// <summary>File position of the last indexed batch starting at or before <paramref name="relativeOffset"/>.</summary>
    public int FindPosition(long relativeOffset)
    {
        int lo = 0;
        int hi = _count - 1;
        int found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_entries[mid].RelativeOffset <= relativeOffset)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found < 0 ? 0 : _entries[found].Position;
    }

    /// <summary>Position of the first entry whose batches may hold a timestamp ≥ <paramref name="timestamp"/>, or -1.</summary>
    public int FindPositionByTimestamp(long timestamp)
    {
        for (int i = 0; i < _count; i++)
        {
            if (_entries[i].MaxTimestamp >= timestamp)
            {
                return _entries[i].Position;
            }
        }
        return -1;
    }

    /// <summary>Drops the entries at or past <paramref name="position"/> (after the data was cut there).</summary>
    public void TruncateTo(int position)
    {
        while (_count > 0 && _entries[_count - 1].Position >= position)
        {
            _count--;
        }
        MaxTimestamp = long.MinValue;
        for (int i = 0; i < _count; i++)
        {
            MaxTimestamp = Math.Max(MaxTimestamp, _entries[i].MaxTimestamp);
        }
    }

    /// <summary>Returns the pooled array and keeps an exact-size copy: a closed segment's index never grows again.</summary>
    public void Seal()
    {
        if (!_pooled)
        {
            return;
        }
        var exact = _entries.AsSpan(0, _count).ToArray();
        ArrayPool<IndexEntry>.Shared.Return(_entries);
        _entries = exact;
        _pooled = false;
    }

    public int SerializedSize => FileHeaderSize + _count * EntrySize;

    /// <summary>Writes the index file image: header (magic, count, base offset, covered data size, CRC of the entries,
    /// next offset relative to the base) and entries.</summary>
    public void Serialize(Span<byte> destination, long baseOffset, long coveredSize, long nextOffset)
    {
        var body = destination.Slice(FileHeaderSize, _count * EntrySize);
        for (int i = 0; i < _count; i++)
        {
            var e = body.Slice(i * EntrySize, EntrySize);
            BinaryPrimitives.WriteInt32LittleEndian(e, _entries[i].RelativeOffset);
            BinaryPrimitives.WriteInt32LittleEndian(e[4..], _entries[i].Position);
            BinaryPrimitives.WriteInt64LittleEndian(e[8..], _entries[i].MaxTimestamp);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], _count);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], baseOffset);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], coveredSize);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], Crc32C.Compute(body));
        BinaryPrimitives.WriteInt32LittleEndian(destination[28..], checked((int)(nextOffset - baseOffset)));
    }

    /// <summary>Parses an index file image; null when it is torn, from another segment, or does not cover exactly
    /// <paramref name="dataSize"/> bytes (stale).</summary>
    public static SegmentIndex? TryParse(ReadOnlySpan<byte> image, long baseOffset, long dataSize, out long nextOffset)
    {
        nextOffset = -1;
        if (image.Length < FileHeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(image) != Magic)
        {
            return null;
        }
        int count = BinaryPrimitives.ReadInt32LittleEndian(image[4..]);
        if (count < 0 || count > (image.Length - FileHeaderSize) / EntrySize
            || BinaryPrimitives.ReadInt64LittleEndian(image[8..]) != baseOffset
            || BinaryPrimitives.ReadInt64LittleEndian(image[16..]) != dataSize)
        {
            return null;
        }
        var body = image.Slice(FileHeaderSize, count * EntrySize);
        if (Crc32C.Compute(body) != BinaryPrimitives.ReadUInt32LittleEndian(image[24..]))
        {
            return null;
        }
        int nextRelative = BinaryPrimitives.ReadInt32LittleEndian(image[28..]);
        if (nextRelative < 0 || (nextRelative == 0) != (dataSize == 0))
        {
            return null;
        }
        nextOffset = baseOffset + nextRelative;
        var index = new SegmentIndex(count);
        for (int i = 0; i < count; i++)
        {
            var e = body.Slice(i * EntrySize, EntrySize);
            var entry = new IndexEntry
            {
                RelativeOffset = BinaryPrimitives.ReadInt32LittleEndian(e),
                Position = BinaryPrimitives.ReadInt32LittleEndian(e[4..]),
                MaxTimestamp = BinaryPrimitives.ReadInt64LittleEndian(e[8..]),
            };
            index._entries[index._count++] = entry;
            index.MaxTimestamp = Math.Max(index.MaxTimestamp, entry.MaxTimestamp);
        }
        index.Seal();
        return index;
    }

    public void Dispose()
    {
        if (_pooled)
        {
            ArrayPool<IndexEntry>.Shared.Return(_entries);
            _pooled = false;
        }
        _entries = [];
        _count = 0;
    }
}
