using System.Collections;
using System.Reflection;
using Eddy.Kafka.Protocol;

namespace Eddy.Protocol.Tests;

/// <summary>
/// Fills a generated message with seeded random values, field by field, honouring the versions,
/// nullability and tags recorded in [KafkaField], so the instance is encodable at that version.
/// </summary>
internal static class RandomMessages
{
    public static void Fill(object target, short version, Random rng, bool flexible, int depth = 0)
    {
        foreach (var p in target.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var a = p.GetCustomAttribute<KafkaFieldAttribute>();
            if (a is null || !KafkaFieldAttribute.InRange(a.Versions, version)) continue;
            bool nullable = KafkaFieldAttribute.InRange(a.Nullable, version);
            p.SetValue(target, Value(p.PropertyType, nullable, version, rng, flexible, depth));
        }
        if (flexible && rng.Next(3) == 0)
        {
            // Tags far above any the schemas use: unknown at every version, so they must survive as raw bytes.
            var unknown = new List<RawTaggedField>();
            int tag = 90 + rng.Next(10);
            for (int i = rng.Next(1, 3); i > 0; i--, tag += 1 + rng.Next(200))
                unknown.Add(new RawTaggedField(tag, Bytes(rng, rng.Next(0, 300))));
            target.GetType().GetProperty("UnknownTaggedFields")!.SetValue(target, unknown);
        }
    }

    private static object? Value(Type t, bool nullable, short version, Random rng, bool flexible, int depth)
    {
        bool isNull = nullable && rng.Next(4) == 0;
        if (t == typeof(bool)) return rng.Next(2) == 1;
        if (t == typeof(sbyte)) return (sbyte)rng.Next(-128, 128);
        if (t == typeof(short)) return (short)rng.Next(short.MinValue, short.MaxValue + 1);
        if (t == typeof(ushort)) return (ushort)rng.Next(0, ushort.MaxValue + 1);
        if (t == typeof(int)) return rng.Next(int.MinValue, int.MaxValue);
        if (t == typeof(uint)) return (uint)rng.NextInt64(0, uint.MaxValue);
        if (t == typeof(long)) return rng.NextInt64(long.MinValue, long.MaxValue);
        if (t == typeof(double)) return rng.NextDouble() * 1e6;
        if (t == typeof(Guid)) return new Guid(Bytes(rng, 16));
        if (t == typeof(string)) return isNull ? null : Text(rng);
        if (t == typeof(byte[])) return isNull ? null : Bytes(rng, rng.Next(0, 40));
        if (t == typeof(ReadOnlyMemory<byte>?)) return isNull ? null : (ReadOnlyMemory<byte>?)Bytes(rng, rng.Next(0, 200));
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>))
        {
            if (isNull) return null;
            var list = (IList)Activator.CreateInstance(t)!;
            int n = depth > 3 ? 0 : rng.Next(0, 4);
            for (int i = 0; i < n; i++) list.Add(Value(t.GetGenericArguments()[0], false, version, rng, flexible, depth + 1));
            return list;
        }
        if (t.IsClass)
        {
            if (isNull) return null;
            var s = Activator.CreateInstance(t)!;
            Fill(s, version, rng, flexible, depth + 1);
            return s;
        }
        throw new NotSupportedException(t.FullName);
    }

    private static byte[] Bytes(Random rng, int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }

    private static string Text(Random rng)
    {
        // Mixed ASCII and multi-byte characters so UTF-8 byte lengths differ from char counts.
        const string alphabet = "abcdefghijklmnopqrstuvwxyz-._0123456789äöü€日本";
        var chars = new char[rng.Next(0, 24)];
        for (int i = 0; i < chars.Length; i++) chars[i] = alphabet[rng.Next(alphabet.Length)];
        return new string(chars);
    }
}
