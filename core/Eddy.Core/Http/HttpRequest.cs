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

    /// <summary>Whether the client keeps the connection for another request (HTTP/1.1 unless it said close).</summary>
    public bool KeepAlive { get; } = keepAlive;
}
