using System.CommandLine;
using Eddy.Client;

namespace Eddy.Host.Commands;

/// <summary>The options every client command shares: where the cluster is.</summary>
internal static class CliOptions
{
    public const string BrokersVariable = "EDDY_BROKERS";
    public const string AdminUrlVariable = "EDDY_ADMIN_URL";
    public const string LocalAdminUrl = "http://127.0.0.1:9644";

    public static readonly Option<string> Brokers = new("--brokers", "-b")
    {
        Description = $"Kafka addresses, host:port[,host:port...] (env {BrokersVariable}; default {KafkaClientOptions.LocalBootstrap})",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(BrokersVariable) is { Length: > 0 } v ? v : KafkaClientOptions.LocalBootstrap,
    };

    public static readonly Option<string> AdminUrl = new("--admin-url")
    {
        Description = $"The admin API's base URL (env {AdminUrlVariable}; default {LocalAdminUrl})",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(AdminUrlVariable) is { Length: > 0 } v ? v : LocalAdminUrl,
    };

    public static KafkaClient Client(ParseResult parse) => new(new KafkaClientOptions { Bootstrap = parse.GetValue(Brokers)! });

    /// <summary>key=value pairs from repeated options; a pair without '=' is bad usage.</summary>
    public static Dictionary<string, string> Pairs(IEnumerable<string>? pairs, string option)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs ?? [])
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0)
            {
                throw new UsageException($"{option} {pair}: expected key=value");
            }
            result[pair[..eq]] = pair[(eq + 1)..];
        }
        return result;
    }
}

/// <summary>Bad usage found after parsing (a value in the wrong form): exit code 2, like a parse error.</summary>
internal sealed class UsageException(string message) : Exception(message);
