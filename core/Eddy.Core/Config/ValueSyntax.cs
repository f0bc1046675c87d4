using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Eddy.Config;

/// <summary>
/// How one kind of property value is written and checked. The same instance parses a flag, an EDDY_* variable and an
/// eddy.yaml value, and describes itself for --help and docs/configuration.md, so the bounds shown are the bounds enforced.
/// <see cref="Parse"/> throws <see cref="FormatException"/> with a message about the value only; the caller adds where it came from.
/// </summary>
public abstract class ValueSyntax<T>
{
    /// <summary>How the value is written, e.g. <c>HOST:PORT</c>.</summary>
    public abstract string Syntax { get; }

    /// <summary>The accepted range or choices, when the syntax alone does not say; null when it does.</summary>
    public virtual string? Bounds => null;

    public abstract T Parse(string text);
}

/// <summary>The value syntaxes node properties use.</summary>
public static class ValueSyntaxes
{
    public static ValueSyntax<int> Int(int min, int max) => new IntSyntax(min, max);
    public static ValueSyntax<long> Long(long min, long max) => new LongSyntax(min, max);
    public static readonly ValueSyntax<bool> Bool = new BoolSyntax();
    public static readonly ValueSyntax<string> Path = new PathSyntax();
    public static readonly ValueSyntax<string> Name = new NameSyntax();
    /// <summary>An IPv4 address (or localhost) and port to listen on; port 0 picks a free one.</summary>
    public static readonly ValueSyntax<IPEndPoint> ListenAddress = new ListenAddressSyntax();
    /// <summary>A host name or address and a port that others connect to.</summary>
    public static ValueSyntax<string> HostPort(int minPort) => new HostPortSyntax(minPort);
    /// <summary>HOST:PORT items separated by commas (in eddy.yaml also a list).</summary>
    public static readonly ValueSyntax<IReadOnlyList<string>> HostPortList = new HostPortListSyntax();
    public static ValueSyntax<T> Choice<T>(string syntax, Func<string, T> parse) => new ChoiceSyntax<T>(syntax, parse);

    private sealed class IntSyntax(int min, int max) : ValueSyntax<int>
    {
        public override string Syntax => "N";
        public override string Bounds => $"{min}..{max}";

        public override int Parse(string text) => (int)ParseWhole(text, min, max);
    }

    private sealed class LongSyntax(long min, long max) : ValueSyntax<long>
    {
        public override string Syntax => "N";
        public override string Bounds => $"{min}..{max}";

        public override long Parse(string text) => ParseWhole(text, min, max);
    }

    private static long ParseWhole(string text, long min, long max)
        => long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) && n >= min && n <= max
            ? n
            : throw new FormatException($"'{text}' is not a whole number within [{min}, {max}]");

    private sealed class BoolSyntax : ValueSyntax<bool>
    {
        public override string Syntax => "true|false";

        public override bool Parse(string text) => text.Trim().ToLowerInvariant() switch
        {
            "true" => true,
            "false" => false,
            _ => throw new FormatException($"'{text}' is not true or false"),
        };
    }

    private sealed class PathSyntax : ValueSyntax<string>
    {
        public override string Syntax => "DIR";

        public override string Parse(string text)
            => text.Length == 0 ? throw new FormatException("the path is empty")
                : text.Contains('\0', StringComparison.Ordinal) ? throw new FormatException("the path contains a NUL character")
                : text;
    }

    /// <summary>A short label such as a rack: printable, up to 255 bytes (Kafka's rack limit).</summary>
    private sealed class NameSyntax : ValueSyntax<string>
    {
        public override string Syntax => "NAME";

        public override string Parse(string text)
            => text.Length == 0 ? throw new FormatException("the name is empty")
                : System.Text.Encoding.UTF8.GetByteCount(text) > 255 ? throw new FormatException("the name is longer than 255 bytes")
                : text.Any(char.IsControl) ? throw new FormatException("the name contains a control character")
                : text;
    }

    private sealed class HostPortSyntax(int minPort) : ValueSyntax<string>
    {
        public override string Syntax => "HOST:PORT";

        public override string Parse(string text)
        {
            string value = text.Trim();
            int colon = value.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port)
                || port < minPort || port > 65535 || value.AsSpan(0, colon).ContainsAny(" ,/"))
            {
                throw new FormatException($"'{text}' is not HOST:PORT");
            }
            return value;
        }
    }

    private sealed class ListenAddressSyntax : ValueSyntax<IPEndPoint>
    {
        private static readonly HostPortSyntax AnyPort = new(0); // a listener may ask for any free port

        public override string Syntax => "HOST:PORT";
        public override string Bounds => "an IPv4 address or localhost; port 0 picks a free one";

        public override IPEndPoint Parse(string text)
        {
            string value = AnyPort.Parse(text);
            int colon = value.LastIndexOf(':');
            string host = value[..colon];
            int port = int.Parse(value.AsSpan(colon + 1), CultureInfo.InvariantCulture);
            if (host is "localhost")
            {
                return new IPEndPoint(IPAddress.Loopback, port);
            }
            if (!IPAddress.TryParse(host, out var address) || address.AddressFamily != AddressFamily.InterNetwork)
            {
                throw new FormatException($"'{host}' is not an IPv4 address to listen on");
            }
            return new IPEndPoint(address, port);
        }
    }

    private sealed class HostPortListSyntax : ValueSyntax<IReadOnlyList<string>>
    {
        private static readonly HostPortSyntax Item = new(1);

        public override string Syntax => "HOST:PORT,...";

        public override IReadOnlyList<string> Parse(string text)
            => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Item.Parse).ToArray();
    }

    private sealed class ChoiceSyntax<T>(string syntax, Func<string, T> parse) : ValueSyntax<T>
    {
        public override string Syntax => syntax;

        public override T Parse(string text)
        {
            try
            {
                return parse(text);
            }
            catch (ArgumentException e)
            {
                throw new FormatException(e.Message, e);
            }
        }
    }
}
