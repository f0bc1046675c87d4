using System.Text.Json;

namespace Eddy.Codegen;

/// <summary>An inclusive version range from the schema ("3+", "0-12", "5", "none").</summary>
internal readonly record struct VersionRange(int Lo, int Hi)
{
    public static readonly VersionRange None = new(1, 0);
    public const int Open = short.MaxValue;

    public bool IsNone => Lo > Hi;
    public bool Contains(int v) => v >= Lo && v <= Hi;

    public static VersionRange Parse(string? s)
    {
        if (string.IsNullOrWhiteSpace(s) || s == "none") return None;
        s = s.Trim();
        if (s.EndsWith('+')) return new(int.Parse(s[..^1]), Open);
        int dash = s.IndexOf('-');
        if (dash > 0) return new(int.Parse(s[..dash]), int.Parse(s[(dash + 1)..]));
        int v = int.Parse(s);
        return new(v, v);
    }

    public override string ToString() => IsNone ? "none" : Hi == Open ? $"{Lo}+" : Lo == Hi ? $"{Lo}" : $"{Lo}-{Hi}";
}

/// <summary>One field of a message or struct, as the JSON schema states it.</summary>
internal sealed class FieldDef
{
    public required string Name { get; init; }
    public required string Type { get; init; }
    public VersionRange Versions { get; init; }
    public VersionRange Nullable { get; init; }
    public VersionRange Tagged { get; init; }
    public int? Tag { get; init; }
    public bool Ignorable { get; init; }
    public string? Default { get; init; }
    /// <summary>Per-field override (only RequestHeader.ClientId uses it: never compact).</summary>
    public VersionRange? FlexibleOverride { get; init; }
    public List<FieldDef>? Fields { get; init; }

    public bool IsArray => Type.StartsWith("[]", StringComparison.Ordinal);
    public string ElementType => IsArray ? Type[2..] : Type;
    public static bool IsPrimitive(string t) => t is "bool" or "int8" or "int16" or "uint16" or "int32" or "uint32"
        or "int64" or "float64" or "string" or "bytes" or "uuid" or "records";
    public bool IsStruct => !IsPrimitive(ElementType);
}

internal sealed class StructDef
{
    public required string Name { get; set; }
    public required List<FieldDef> Fields { get; init; }
}

/// <summary>One message definition, possibly merged from several schema folders.</summary>
internal sealed class MessageDef
{
    public required string Name { get; init; }
    public required string Kind { get; init; } // request, response, header, data
    public int? ApiKey { get; init; }
    public VersionRange Valid { get; set; }
    public VersionRange Flexible { get; init; }
    public required List<FieldDef> Fields { get; init; }
    public required Dictionary<string, List<FieldDef>> CommonStructs { get; init; }
    public required string Source { get; set; }

    public string MergeKey => ApiKey is int k ? $"{Kind}:{k}" : $"{Kind}:{Name}";
}

internal static class SchemaLoader
{
    private static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static MessageDef Load(string path, string sourceLabel)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path), Options);
        var root = doc.RootElement;
        var common = new Dictionary<string, List<FieldDef>>(StringComparer.Ordinal);
        if (root.TryGetProperty("commonStructs", out var cs))
            foreach (var s in cs.EnumerateArray())
                common[s.GetProperty("name").GetString()!] = ParseFields(s.GetProperty("fields"));
        return new MessageDef
        {
            Name = root.GetProperty("name").GetString()!,
            Kind = root.GetProperty("type").GetString()!,
            ApiKey = root.TryGetProperty("apiKey", out var k) ? k.GetInt32() : null,
            Valid = VersionRange.Parse(Str(root, "validVersions")),
            Flexible = VersionRange.Parse(Str(root, "flexibleVersions")),
            Fields = ParseFields(root.GetProperty("fields")),
            CommonStructs = common,
            Source = sourceLabel,
        };
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var p) ? (p.ValueKind == JsonValueKind.String ? p.GetString() : p.GetRawText()) : null;

    private static List<FieldDef> ParseFields(JsonElement arr)
    {
        var list = new List<FieldDef>();
        foreach (var f in arr.EnumerateArray())
        {
            list.Add(new FieldDef
            {
                Name = f.GetProperty("name").GetString()!,
                Type = f.GetProperty("type").GetString()!.Trim(),
                Versions = VersionRange.Parse(Str(f, "versions")),
                Nullable = VersionRange.Parse(Str(f, "nullableVersions")),
                Tagged = VersionRange.Parse(Str(f, "taggedVersions")),
                Tag = f.TryGetProperty("tag", out var t) ? (t.ValueKind == JsonValueKind.String ? int.Parse(t.GetString()!) : t.GetInt32()) : null,
                Ignorable = f.TryGetProperty("ignorable", out var ig) && ig.GetBoolean(),
                Default = Str(f, "default"),
                FlexibleOverride = f.TryGetProperty("flexibleVersions", out var fv) ? VersionRange.Parse(fv.GetString()) : null,
                Fields = f.TryGetProperty("fields", out var sub) ? ParseFields(sub) : null,
            });
        }
        return list;
    }

    /// <summary>
    /// Loads every folder in order; a later folder's definition of the same API (key and kind) replaces
    /// the earlier one, keeping the earlier low versions. Before replacing, it checks that both files lay
    /// out every version they share identically, so the newer file may speak for the older versions.
    /// </summary>
    public static List<MessageDef> LoadAll(IReadOnlyList<string> folders)
    {
        var byKey = new Dictionary<string, MessageDef>(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            string label = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
            foreach (var path in Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal))
            {
                var def = Load(path, $"{label}/{Path.GetFileName(path)}");
                if (!byKey.TryGetValue(def.MergeKey, out var old)) { byKey[def.MergeKey] = def; continue; }
                for (int v = old.Valid.Lo; v <= old.Valid.Hi; v++)
                {
                    string a = Layout.Signature(old, v), b = Layout.Signature(def, v);
                    if (a != b)
                        throw new InvalidOperationException($"{def.Source} lays out v{v} differently from {old.Source}:\n{a}\n{b}");
                }
                if (old.Valid.Lo < def.Valid.Lo)
                    def.Source += $" (v{old.Valid.Lo}-{def.Valid.Lo - 1} checked against {old.Source})";
                def.Valid = new VersionRange(Math.Min(old.Valid.Lo, def.Valid.Lo), Math.Max(old.Valid.Hi, def.Valid.Hi));
                byKey[def.MergeKey] = def;
            }
        }
        return byKey.Values.OrderBy(m => m.ApiKey ?? 1000).ThenBy(m => m.Kind, StringComparer.Ordinal).ThenBy(m => m.Name, StringComparer.Ordinal).ToList();
    }
}

/// <summary>The wire layout of one version (types, nullability, tags; not names), as text, to compare two schema files.</summary>
internal static class Layout
{
    public static string Signature(MessageDef m, int v)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append(m.Flexible.Contains(v) ? "flex;" : "fixed;");
        Append(sb, m, m.Fields, v);
        return sb.ToString();
    }

    private static void Append(System.Text.StringBuilder sb, MessageDef m, List<FieldDef> fields, int v)
    {
        foreach (var f in fields)
        {
            if (!f.Versions.Contains(v)) continue;
            // Names are left out: a rename (ListClientMetricsResources -> ListConfigResources) keeps the wire format.
            sb.Append(f.IsStruct ? (f.IsArray ? "[]struct" : "struct") : f.Type);
            if (f.Nullable.Contains(v)) sb.Append('?');
            if (f.Tagged.Contains(v)) sb.Append('@').Append(f.Tag);
            var sub = f.Fields ?? (m.CommonStructs.TryGetValue(f.ElementType, out var c) ? c : null);
            if (sub != null) { sb.Append('{'); Append(sb, m, sub, v); sb.Append('}'); }
            sb.Append(';');
        }
    }
}
