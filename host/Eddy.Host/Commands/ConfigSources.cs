namespace Eddy.Host.Commands;

/// <summary>DescribeConfigs' config sources (Kafka's ConfigSource ids), named for where Eddy keeps each value.</summary>
internal static class ConfigSources
{
    public const sbyte Topic = 1;

    public static string Name(sbyte source) => source switch
    {
        1 => "topic",
        2 => "node (dynamic)",
        3 => "cluster",
        4 => "node",
        5 => "default",
        6 => "node (logger)",
        _ => "unknown",
    };
}
