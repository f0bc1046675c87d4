using System.Text;

namespace Eddy.Http;

/// <summary>A response: status, content type and body, and any other headers a handler needs (Allow on a 405).</summary>
public sealed class HttpResponse(int status, string contentType, byte[] body)
{
    public int Status { get; } = status;
    public string ContentType { get; } = contentType;
    public byte[] Body { get; } = body;

    /// <summary>More headers, name and value; the server writes Content-Type, Content-Length and Connection itself.</summary>
    public List<(string Name, string Value)> Headers { get; } = [];

    /// <summary>The head and body as they go on the wire.</summary>
    public byte[] Encode(bool close)
    {
        var head = new StringBuilder(128)
            .Append("HTTP/1.1 ").Append(Status).Append(' ').Append(ReasonOf(Status)).Append("\r\n")
            .Append("Content-Type: ").Append(ContentType).Append("\r\n")
            .Append("Content-Length: ").Append(Body.Length).Append("\r\n");
        foreach (var (name, value) in Headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        if (close)
        {
            head.Append("Connection: close\r\n");
        }
        head.Append("\r\n");
        int headBytes = Encoding.ASCII.GetByteCount(head.ToString());
        var bytes = new byte[headBytes + Body.Length];
        Encoding.ASCII.GetBytes(head.ToString(), bytes);
        Body.CopyTo(bytes, headBytes);
        return bytes;
    }

    public static string ReasonOf(int status) => status switch
    {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Status " + status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
