using System.Buffers;
using System.Text.Json;
using Eddy.Http;

namespace Eddy.Admin;

/// <summary>The admin API's JSON: bodies written with <see cref="Utf8JsonWriter"/> (no reflection, so NativeAOT keeps
/// no serializer metadata), and one error shape, <c>{"message": "...", "code": 404}</c>, for every 4xx and 5xx.</summary>
public static class AdminJson
{
    public const string ContentType = "application/json";

    // Relaxed escaping: the bodies go to operators and tools, not into HTML, so "'" stays "'" rather than "\u0027".
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static HttpResponse Ok(Action<Utf8JsonWriter> write) => Response(200, write);

    public static HttpResponse Response(int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }
        return new HttpResponse(status, ContentType, buffer.WrittenSpan.ToArray());
    }

    public static HttpResponse Error(int status, string message) => Response(status, w =>
    {
        w.WriteStartObject();
        w.WriteString("message", message);
        w.WriteNumber("code", status);
        w.WriteEndObject();
    });

    public static void WriteInts(Utf8JsonWriter writer, string name, IEnumerable<int> values)
    {
        writer.WriteStartArray(name);
        foreach (int value in values)
        {
            writer.WriteNumberValue(value);
        }
        writer.WriteEndArray();
    }
}
