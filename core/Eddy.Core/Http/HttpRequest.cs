namespace Eddy.Http;

/// <summary>One HTTP/1.1 request as the server read it: the method, the path (percent-decoded) and query, and the
/// body, whose length its Content-Length gave.</summary>
public sealed class HttpRequest(string method, string path, string query, byte[] body, bool keepAlive)
{
    /// <summary>The method as sent (GET, PUT, ...); methods are case-sensitive in HTTP.</summary>
    public string Method { get; } = method;

    /// <summary>The path, starting with '/', each segment percent-decoded.</summary>
    public string Path { get; } = path;

    /// <summary>What followed '?', undecoded; empty when nothing did.</summary>
    public string Query { get; } = query;

    public byte[] Body { get; } = body;

    /// <summary>The value of query parameter <paramref name="name"/> (the first where it repeats), percent- and
    /// plus-decoded; "" for one given without '='; null when absent.</summary>
    public string? QueryValue(string name)
    {
        foreach (string pair in Query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            string key = Uri.UnescapeDataString((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
            if (key == name)
            {
                return equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            }
        }
        return null;
    }

    /// <summary>Whether the client keeps the connection for another request (HTTP/1.1 unless it said close).</summary>
    public bool KeepAlive { get; } = keepAlive;
}
