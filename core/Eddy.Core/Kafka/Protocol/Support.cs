namespace Eddy.Kafka.Protocol;

/// <summary>A message body, header or consumer-protocol payload that can read and write itself at a version.</summary>
public interface IKafkaMessage
{
    /// <summary>The API key, or -1 for headers and other non-API messages.</summary>
    short ApiKey { get; }
    short LowestSupportedVersion { get; }
    short HighestSupportedVersion { get; }
    /// <summary>First flexible version; short.MaxValue when the message has none.</summary>
    short FlexibleFrom { get; }
    void Read(ref KafkaReader r, short version);
    void Write(KafkaWriter w, short version);
}

/// <summary>One API key's supported range, for ApiVersions and header-version decisions.</summary>
public readonly record struct ApiDescriptor(short Key, string Name, short MinVersion, short MaxVersion, short FlexibleFrom)
{
    public bool IsFlexible(short version) => version >= FlexibleFrom;
}

/// <summary>A tagged field the schema does not know at this version: kept as raw bytes and written back.</summary>
public readonly record struct RawTaggedField(int Tag, byte[] Data);

/// <summary>
/// Schema facts about a generated property: the versions it exists in, where it may be null, and its
/// tag. The codec does not read these at run time (the generated code already branches on them); they
/// document the field and let tests build version-correct random instances.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class KafkaFieldAttribute(string versions) : Attribute
{
    public string Versions { get; } = versions;
    public string? Nullable { get; set; }
    public string? Tagged { get; set; }
    public int Tag { get; set; } = -1;
    public bool Ignorable { get; set; }

    /// <summary>Whether version v lies in a schema range such as "3+", "0-12", "5" or "none".</summary>
    public static bool InRange(string? range, int v)
    {
        if (string.IsNullOrEmpty(range) || range == "none") return false;
        if (range.EndsWith('+')) return v >= int.Parse(range.AsSpan(0, range.Length - 1));
        int dash = range.IndexOf('-');
        if (dash > 0) return v >= int.Parse(range.AsSpan(0, dash)) && v <= int.Parse(range.AsSpan(dash + 1));
        return v == int.Parse(range);
    }
}

/// <summary>Structural equality for the generated Equals: lists by element, byte arrays by content.</summary>
public static class ProtocolEquality
{
    public static bool Lists<T>(List<T>? a, List<T>? b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null || a.Count != b.Count) return false;
        var cmp = EqualityComparer<T>.Default;
        for (int i = 0; i < a.Count; i++)
            if (!cmp.Equals(a[i], b[i])) return false;
        return true;
    }

    public static bool Bytes(byte[]? a, byte[]? b) =>
        ReferenceEquals(a, b) || (a is not null && b is not null && a.AsSpan().SequenceEqual(b));

    public static bool Records(ReadOnlyMemory<byte>? a, ReadOnlyMemory<byte>? b) =>
        a.HasValue == b.HasValue && (!a.HasValue || a.Value.Span.SequenceEqual(b!.Value.Span));

    /// <summary>Unknown tagged fields: null and empty mean the same (nothing to write back).</summary>
    public static bool Tags(List<RawTaggedField>? a, List<RawTaggedField>? b)
    {
        int na = a?.Count ?? 0, nb = b?.Count ?? 0;
        if (na != nb) return false;
        for (int i = 0; i < na; i++)
            if (a![i].Tag != b![i].Tag || !a[i].Data.AsSpan().SequenceEqual(b[i].Data)) return false;
        return true;
    }
}
