using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Eddy.Client;

/// <summary>
/// JSON over a node's admin API (docs/admin-api.md). A 4xx or 5xx answer throws <see cref="AdminApiException"/>
/// carrying the node's own message (its error bodies are {"message": ..., "code": ...}). One HTTP/1.1 exchange per
/// request on a connection of its own (Connection: close), bodies by Content-Length: what the admin API speaks, and all
/// a CLI needs, without System.Net.Http's weight in the binary (docs/cli.md).
/// </summary>
public sealed class AdminApiClient(string baseUrl)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly Uri _base = new(Normalize(baseUrl));

    public async Task<JsonNode?> GetAsync(string path, CancellationToken cancel = default)
    {
        var (status, reason, body) = await ExchangeAsync("GET", path, null, cancel);
        return Json(status, reason, body, path);
    }

    /// <summary>A plain-text resource (/metrics).</summary>
    public async Task<string> GetTextAsync(string path, CancellationToken cancel = default)
    {
        var (status, reason, body) = await ExchangeAsync("GET", path, null, cancel);
        return status is >= 200 and < 300 ? body : throw new AdminApiException($"{status} {reason}: {body.Trim()}");
    }

    public async Task<JsonNode?> PutAsync(string path, JsonNode body, CancellationToken cancel = default)
    {
        var (status, reason, text) = await ExchangeAsync("PUT", path, body.ToJsonString(), cancel);
        return Json(status, reason, text, path);
    }

    private async Task<(int Status, string Reason, string Body)> ExchangeAsync(string method, string path, string? body, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(Timeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(_base.Host, _base.Port, timeout.Token);
            byte[] content = body is null ? [] : Encoding.UTF8.GetBytes(body);
            var head = new StringBuilder()
                .Append(method).Append(' ').Append(_base.AbsolutePath.TrimEnd('/')).Append('/').Append(path.TrimStart('/')).Append(" HTTP/1.1\r\n")
                .Append("Host: ").Append(_base.Authority).Append("\r\n")
                .Append("Connection: close\r\n")
                .Append(body is null ? "" : $"Content-Type: application/json\r\nContent-Length: {content.Length}\r\n")
                .Append("\r\n");
            await socket.SendAsync(Encoding.ASCII.GetBytes(head.ToString()), SocketFlags.None, timeout.Token);
            if (content.Length > 0)
            {
                await socket.SendAsync(content, SocketFlags.None, timeout.Token);
            }
            var received = new MemoryStream();
            var buffer = new byte[64 << 10];
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, n);
            }
            return Parse(received.GetBuffer().AsSpan(0, (int)received.Length));
        }
        catch (SocketException e)
        {
            throw new AdminApiException($"cannot reach the admin API at {_base}: {e.SocketErrorCode}");
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new AdminApiException($"the admin API at {_base} did not answer within {Timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>Status line, headers, and the body by Content-Length (else to the end, as Connection: close allows).</summary>
    private (int Status, string Reason, string Body) Parse(ReadOnlySpan<byte> response)
    {
        int end = response.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            throw new AdminApiException($"{_base}: the answer is not HTTP");
        }
        var lines = Encoding.ASCII.GetString(response[..end]).Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(status[1], out int code))
        {
            throw new AdminApiException($"{_base}: the answer is not HTTP ({lines[0]})");
        }
        var body = response[(end + 4)..];
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(line[(colon + 1)..].Trim(), out int length) && length <= body.Length)
            {
                body = body[..length];
            }
        }
        return (code, status.Length > 2 ? status[2] : "", Encoding.UTF8.GetString(body));
    }

    private static JsonNode? Json(int status, string reason, string text, string path)
    {
        JsonNode? body = null;
        try
        {
            body = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            if (status is >= 200 and < 300)
            {
                throw new AdminApiException($"{path}: the answer is not JSON");
            }
        }
        if (status is < 200 or >= 300)
        {
            string message = body is JsonObject o && o["message"] is JsonValue m ? m.ToString() : text.Trim();
            throw new AdminApiException($"{status} {reason}: {message}", body);
        }
        return body;
    }

    private static string Normalize(string url)
    {
        if (!url.Contains("://", StringComparison.Ordinal))
        {
            url = "http://" + url;
        }
        var uri = new Uri(url);
        if (uri.Scheme != "http")
        {
            throw new ArgumentException($"admin URL {url}: only http is served");
        }
        return url.EndsWith('/') ? url : url + "/";
    }
}

/// <summary>The admin API refused a request or could not be reached; <see cref="Body"/> is its JSON answer, if any.</summary>
public sealed class AdminApiException(string message, JsonNode? body = null) : Exception(message)
{
    public JsonNode? Body { get; } = body;
}
