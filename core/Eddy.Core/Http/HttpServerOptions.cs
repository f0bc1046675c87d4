namespace Eddy.Http;

/// <summary>The HTTP server's limits over time and connections; the defaults suit an admin API.</summary>
public sealed class HttpServerOptions
{
    /// <summary>How long a request may take to arrive, head and body, from its first byte: 10 s. A connection that
    /// sends part of a request and stops is closed then, so it cannot hold one of the <see cref="MaxConnections"/>.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a kept-alive connection may wait for its next request: 60 s.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Connections served at once: 128; past it a new one gets 503 and is closed.</summary>
    public int MaxConnections { get; init; } = 128;
}
