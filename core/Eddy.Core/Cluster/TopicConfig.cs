namespace Eddy.Cluster;

/// <summary>The type Kafka's DescribeConfigs reports for a config (ConfigType in DescribeConfigsResponse v3+).</summary>
public enum ConfigValueType : sbyte
{
    Boolean = 1,
    String = 2,
    Int = 3,
    Short = 4,
    Long = 5,
    Double = 6,
    List = 7,
    Class = 8,
    Password = 9,
}

/// <summary>
/// One topic config Eddy understands: its Kafka name, default, type, documentation and the check a new value
/// must pass. <see cref="Validate"/> returns null for a good value, otherwise the reason, phrased for the client.
/// </summary>
public sealed class TopicConfig(string name, string @default, ConfigValueType type, string documentation, Func<string, string?> validate)
{
    public string Name { get; } = name;
    public string Default { get; } = @default;
    public ConfigValueType Type { get; } = type;
    public string Documentation { get; } = documentation;

    public string? Validate(string value) => validate(value);
}
