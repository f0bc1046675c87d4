namespace Eddy.Records;

/// <summary>
/// Walks the batches of a buffer in order without copying. It stops quietly at an incomplete trailing batch (a Fetch
/// may cut the last one, a read window may end inside one); any other failed check throws
/// <see cref="InvalidDataException"/>, since a damaged batch in the middle must not pass as the end of the data.
/// CRCs are not checked: the buffer comes from the log, which checked them on the way in.
/// </summary>
public ref struct BatchEnumerator
{
    private readonly ReadOnlySpan<byte> _batches;
    private int _at;
    private int _size;

    public BatchEnumerator(ReadOnlySpan<byte> batches) => _batches = batches;

    public readonly RecordBatch Current => new(_batches.Slice(_at, _size));

    public readonly BatchEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        _at += _size;
        _size = 0;
        var check = RecordBatch.Check(_batches[_at..], verifyCrc: false, out int size);
        if (check == BatchCheck.Incomplete)
        {
            return false;
        }
        if (check != BatchCheck.Ok)
        {
            throw new InvalidDataException($"the record batch at byte {_at} fails its check ({check})");
        }
        _size = size;
        return true;
    }
}
