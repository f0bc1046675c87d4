using System.Text;

namespace Eddy.Http;

/// <summary>The request line and the headers the server acts on, read off the front of a receive buffer.</summary>
public readonly record struct HttpHead(string Method, string Path, string Query, long ContentLength, bool KeepAlive);

/// <summary>How reading a head went: <see cref="IsIncomplete"/> (more bytes needed), a head and its length, or the
/// status to refuse the request with and why.</summary>
public readonly record struct HttpHeadRead(HttpHead Head, int Length, int RefuseStatus, string? Why)
{
    public bool IsIncomplete => Length == 0 && RefuseStatus == 0;
    public bool IsHead => Length > 0;

    public static HttpHeadRead Refuse(int status, string why) => new(default, 0, status, why);
}

/// <summary>
/// Reads an HTTP/1.1 request head (RFC 9112): origin-form targets only, CRLF line ends, no obsolete line folding, a
/// body only by Content-Length (a Transfer-Encoding gets 501, so no chunked decoder is needed for an API whose bodies
/// are small JSON). Everything is bounded: the head by <see cref="MaxHeadBytes"/>, the target by
/// <see cref="MaxTargetBytes"/>; bytes outside visible ASCII in the target are refused.
/// </summary>
public static class HttpHeadReader
{
    /// <summary>The longest head accepted: 16 KiB (431 past it).</summary>
    public const int MaxHeadBytes = 16 << 10;

    /// <summary>The longest request target accepted: 4 KiB (414 past it).</summary>
    public const int MaxTargetBytes = 4 << 10;

    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    public static HttpHeadRead Read(ReadOnlySpan<byte> buffer)
    {
        var window = buffer[..Math.Min(buffer.Length, MaxHeadBytes)];
        int end = window.IndexOf(HeadEnd);
        if (end < 0)
        {
            return buffer.Length >= MaxHeadBytes
                ? HttpHeadRead.Refuse(431, $"the request head is longer than {MaxHeadBytes} bytes")
                : default;
        }
        var head = buffer[..end];
        int lineEnd = head.IndexOf("\r\n"u8);
        var requestLine = lineEnd < 0 ? head : head[..lineEnd];
        var fields = lineEnd < 0 ? default : head[(lineEnd + 2)..];

        int firstSpace = requestLine.IndexOf((byte)' ');
        int lastSpace = requestLine.LastIndexOf((byte)' ');
        if (firstSpace <= 0 || lastSpace <= firstSpace + 1)
        {
            return HttpHeadRead.Refuse(400, "the request line is not 'METHOD /path HTTP/1.1'");
        }
        var method = requestLine[..firstSpace];
        var target = requestLine[(firstSpace + 1)..lastSpace];
        var version = requestLine[(lastSpace + 1)..];
        if (method.Length > 16 || !IsToken(method))
        {
            return HttpHeadRead.Refuse(400, "the method is not a token");
        }
        bool keepAlive;
        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            keepAlive = true;
        }
        else if (version.SequenceEqual("HTTP/1.0"u8))
        {
            keepAlive = false;
        }
        else
        {
            return HttpHeadRead.Refuse(505, "only HTTP/1.1 and HTTP/1.0 are spoken here");
        }
        if (target.Length > MaxTargetBytes)
        {
            return HttpHeadRead.Refuse(414, $"the request target is longer than {MaxTargetBytes} bytes");
        }
        if (target.Length == 0 || target[0] != (byte)'/' || target.IndexOfAnyExceptInRange((byte)'!', (byte)'~') >= 0)
        {
            return HttpHeadRead.Refuse(400, "the request target is not a path of visible ASCII starting with '/'");
        }

        long contentLength = 0;
        bool sawLength = false;
        while (!fields.IsEmpty)
        {
            int next = fields.IndexOf("\r\n"u8);
            var line = next < 0 ? fields : fields[..next];
            fields = next < 0 ? default : fields[(next + 2)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                return HttpHeadRead.Refuse(400, "a header line is not 'Name: value' (or is folded onto the line before)");
            }
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!TryParseLength(value, out long length) || (sawLength && length != contentLength))
                {
                    return HttpHeadRead.Refuse(400, "Content-Length is not one decimal number");
                }
                contentLength = length;
                sawLength = true;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                return HttpHeadRead.Refuse(501, "bodies are taken by Content-Length only, not by Transfer-Encoding");
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                string options = Encoding.ASCII.GetString(value);
                if (options.Contains("close", StringComparison.OrdinalIgnoreCase))
                {
                    keepAlive = false;
                }
                else if (options.Contains("keep-alive", StringComparison.OrdinalIgnoreCase))
                {
                    keepAlive = true;
                }
            }
        }

        string rawTarget = Encoding.ASCII.GetString(target);
        int question = rawTarget.IndexOf('?', StringComparison.Ordinal);
        string path = Uri.UnescapeDataString(question < 0 ? rawTarget : rawTarget[..question]);
        string query = question < 0 ? "" : rawTarget[(question + 1)..];
        return new HttpHeadRead(new HttpHead(Encoding.ASCII.GetString(method), path, query, contentLength, keepAlive), end + HeadEnd.Length, 0, null);
    }

    private static bool IsToken(ReadOnlySpan<byte> text)
    {
        foreach (byte b in text)
        {
            bool ok = b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
                || "!#$%&'*+-.^_`|~"u8.Contains(b);
            if (!ok)
            {
                return false;
            }
        }
        return !text.IsEmpty;
    }

    private static bool TryParseLength(ReadOnlySpan<byte> text, out long length)
    {
        length = 0;
        if (text.IsEmpty || text.Length > 18)
        {
            return false;
        }
        foreach (byte b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
            length = length * 10 + (b - '0');
        }
        return true;
    }
}
