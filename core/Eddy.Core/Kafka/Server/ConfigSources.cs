namespace Eddy.Kafka.Server;

/// <summary>Where a config value comes from, as DescribeConfigs and CreateTopics v5+ report it (ConfigSource).</summary>
public static class ConfigSources
{
    public const sbyte DynamicTopic = 1;
    public const sbyte DynamicBroker = 2;
    public const sbyte DynamicDefaultBroker = 3;
    public const sbyte StaticBroker = 4;
    public const sbyte Default = 5;
}
