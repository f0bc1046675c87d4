namespace Eddy.Records;

public readonly ref struct RecordHeader(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool hasValue)
{
    /// <summary>UTF-8 bytes of the header name.</summary>
    public ReadOnlySpan<byte> Key { get; } = key;
    public ReadOnlySpan<byte> Value { get; } = value;
    public bool HasValue { get; } = hasValue;
}

/// <summary>The headers of one record. <see cref="RecordReader"/> checked them all before handing the record out,
/// so walking them cannot fail.</summary>
public ref struct HeaderEnumerator
{
    private readonly ReadOnlySpan<byte> _headers;
    private int _at;
    private int _left;

    internal HeaderEnumerator(ReadOnlySpan<byte> headers, int count)
    {
        _headers = headers;
        _left = count;
    }

    public RecordHeader Current { get; private set; }

    public readonly HeaderEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_left == 0 || !TryRead(_headers, ref _at, out var header))
        {
            return false;
        }
        _left--;
        Current = header;
        return true;
    }

    /// <summary>True when <paramref name="headers"/> holds exactly <paramref name="count"/> well-formed headers.</summary>
    internal static bool TrySkip(ReadOnlySpan<byte> headers, int count)
    {
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            if (!TryRead(headers, ref at, out _))
            {
                return false;
            }
        }
        return at == headers.Length;
    }

    private static bool TryRead(ReadOnlySpan<byte> headers, scoped ref int at, out RecordHeader header)
    {
        header = default;
        if (!RecordReader.TryReadBytes(headers, ref at, out var key, out bool hasKey) || !hasKey
            || !RecordReader.TryReadBytes(headers, ref at, out var value, out bool hasValue))
        {
            return false;
        }
        header = new RecordHeader(key, value, hasValue);
        return true;
    }
}
