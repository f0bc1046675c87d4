namespace Eddy.Records;

/// <summary>What <see cref="RecordBatch.Check"/> found.</summary>
public enum BatchCheck
{
    Ok,
    /// <summary>The bytes end before the batch does (a torn tail, a read that stopped short, a Fetch cut).</summary>
    Incomplete,
    /// <summary>The length field is below the header size or above the largest batch the caller accepts.</summary>
    BadLength,
    BadMagic,
    /// <summary>lastOffsetDelta is negative.</summary>
    BadOffsets,
    BadCrc,
}
