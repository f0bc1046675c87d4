using System.Globalization;

namespace Eddy.Kafka.Server;

/// <summary>The config resource types of DescribeConfigs, AlterConfigs and IncrementalAlterConfigs, and the rule
/// for naming this broker.</summary>
public static class ConfigResources
{
    public const sbyte Topic = 2;
    public const sbyte Broker = 4;

    /// <summary>
    /// Kafka's rule for a BROKER resource name: empty means the cluster-wide dynamic defaults, otherwise it must be
    /// this node's id. Returns null when it names this node or the defaults (<paramref name="isDefaults"/>), else the
    /// message for INVALID_REQUEST.
    /// </summary>
    public static string? CheckBrokerName(string name, int nodeId, out bool isDefaults)
    {
        isDefaults = name.Length == 0;
        if (isDefaults)
        {
            return null;
        }
        if (!int.TryParse(name, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int id))
        {
            return $"broker id must be an integer, but it is: {name}";
        }
        return id == nodeId ? null : $"unexpected broker id, expected {nodeId} or empty string, but received {name}";
    }

    /// <summary>The answer for a resource type other than topic or broker.</summary>
    public static string Unsupported(sbyte type) => $"unsupported resource type {type}: Eddy's configs are on topics (2) and brokers (4)";
}
