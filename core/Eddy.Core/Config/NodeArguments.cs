using System.Net;
using Eddy.Observability;
using Eddy.Runtime;

namespace Eddy.Config;

/// <summary>Parses `eddy start` flags into a <see cref="NodeConfig"/>, refusing unknown flags and bad values by name.</summary>
public static class NodeArguments
{
    /// <summary>Every flag `eddy start` takes, with a one-line description (printed by `eddy start --help`).</summary>
    public static readonly IReadOnlyList<(string Flag, string Description)> Flags =
    [
        ("--data-dir DIR", "data directory (default ./eddy-data)"),
        ("--kafka-addr HOST:PORT", "Kafka API listener (default 127.0.0.1:9092; port 0 picks a free one)"),
        ("--advertise-kafka-addr HOST:PORT", "address advertised to clients (default: the listener's; port 0: the listener's port)"),
        ("--kafka-max-request-bytes N", "largest Kafka request accepted (default 104857600)"),
        ("--rpc-addr HOST:PORT", "node-to-node RPC listener (default 127.0.0.1:33145)"),
        ("--admin-addr HOST:PORT", "admin HTTP API listener (default 127.0.0.1:9644)"),
        ("--node-id N", "node id (default 0)"),
        ("--seeds HOST:PORT,...", "RPC addresses of nodes to join (default: none)"),
        ("--smp N", "number of shards (default: one per available core)"),
        ("--io-backend io_uring|epoll|auto", "I/O backend (default auto; EDDY_IO_BACKEND also sets it)"),
        ("--log-level trace|debug|info|warn|error", "log level (default info)"),
        ("--config FILE", "configuration file"),
    ];

    public static NodeConfig Parse(IReadOnlyList<string> args)
    {
        var config = new NodeConfig();
        string? backend = Environment.GetEnvironmentVariable(ShardGroupOptions.BackendVariable);
        if (backend is not null)
        {
            config.IoBackend = ShardGroupOptions.ParseBackend(backend);
        }
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string flag = arg;
            string? inline = null;
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                flag = arg[..eq];
                inline = arg[(eq + 1)..];
            }
            string Value()
            {
                if (inline is not null)
                {
                    return inline;
                }
                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"{flag} needs a value");
                }
                return args[++i];
            }
            switch (flag)
            {
                case "--data-dir": config.DataDirectory = Value(); break;
                case "--kafka-addr": config.KafkaAddress = Endpoint(flag, Value()); break;
                case "--advertise-kafka-addr": config.AdvertisedKafkaAddress = HostPort(flag, Value(), minPort: 0); break;
                case "--kafka-max-request-bytes": config.KafkaMaxRequestBytes = Int(flag, Value(), 1024, 1 << 30); break;
                case "--rpc-addr": config.RpcAddress = Endpoint(flag, Value()); break;
                case "--admin-addr": config.AdminAddress = Endpoint(flag, Value()); break;
                case "--node-id": config.NodeId = Int(flag, Value(), 0, int.MaxValue); break;
                case "--seeds": config.Seeds = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => HostPort(flag, s)).ToArray(); break;
                case "--smp": config.Shards = Int(flag, Value(), 1, 1024); break;
                case "--io-backend": config.IoBackend = Wrap(flag, () => ShardGroupOptions.ParseBackend(Value())); break;
                case "--log-level": config.LogLevel = Wrap(flag, () => Log.ParseLevel(Value())); break;
                case "--config": config.ConfigFile = Value(); break;
                default: throw new ArgumentException($"unknown flag '{arg}' (eddy start --help lists the flags)");
            }
        }
        return config;
    }

    private static T Wrap<T>(string flag, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{flag}: {e.Message}", e);
        }
    }

    private static int Int(string flag, string value, int min, int max)
        => int.TryParse(value, out int n) && n >= min && n <= max ? n : throw new ArgumentException($"{flag}: '{value}' is not a whole number within [{min}, {max}]");

    private static string HostPort(string flag, string value, int minPort = 1)
    {
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), out int port) || port < minPort || port > 65535)
        {
            throw new ArgumentException($"{flag}: '{value}' is not HOST:PORT");
        }
        return value;
    }

    private static IPEndPoint Endpoint(string flag, string value)
    {
        HostPort(flag, value, minPort: 0); // a listener may ask for any free port
        int colon = value.LastIndexOf(':');
        string host = value[..colon];
        int port = int.Parse(value.AsSpan(colon + 1));
        if (host is "localhost")
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }
        if (!IPAddress.TryParse(host, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"{flag}: '{host}' is not an IPv4 address to listen on");
        }
        return new IPEndPoint(address, port);
    }
}
