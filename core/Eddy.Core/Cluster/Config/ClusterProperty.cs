using System.Globalization;

namespace Eddy.Cluster;

/// <summary>How a cluster property's value is written and checked.</summary>
public enum ClusterPropertyType
{
    Boolean,
    Integer,
    String,
}

/// <summary>
/// One cluster-wide property: the same on every node, kept in the controller's log, changed at run time through the
/// admin API (docs/admin-api.md, docs/configuration.md). Values travel and rest as text in one canonical form
/// (true/false, a decimal integer, the string), checked by <see cref="Check"/> before they are proposed.
/// </summary>
/// <param name="KafkaName">The broker config Kafka's DescribeConfigs, AlterConfigs and IncrementalAlterConfigs call it,
/// where there is one: on the BROKER resource named "" (the cluster-wide defaults) it reads and sets this property.</param>
/// <param name="Validate">For a string property beyond its choices: why a value is not one of it, or null.</param>
/// <param name="TopicConfig">The topic config whose default this property is, where it is one (<see cref="TopicDefaults"/>).</param>
/// <param name="PerNode">Whether one node may have its own value (<c>NAME@NODE_ID</c>), over the cluster's.</param>
public sealed record ClusterProperty(string Name, ClusterPropertyType Type, string Default, string Description,
    string? Unit = null, long? Minimum = null, long? Maximum = null, IReadOnlyList<string>? Choices = null, bool NeedsRestart = false,
    string? KafkaName = null, Func<string, string?>? Validate = null, string? TopicConfig = null, bool PerNode = false)
{
    /// <summary>Why <paramref name="value"/> is not a value of this property, or null when it is.</summary>
    public string? Check(string value) => Type switch
    {
        ClusterPropertyType.Boolean => value is "true" or "false" ? null : $"'{value}' is not true or false",
        ClusterPropertyType.Integer => !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)
            ? $"'{value}' is not a whole number"
            : n < Minimum || n > Maximum ? $"{n} is outside {Minimum}..{Maximum}" : null,
        _ => Choices is { } choices && !choices.Contains(value) ? $"'{value}' is not one of {string.Join(", ", choices)}" : Validate?.Invoke(value),
    };

    public bool AsBoolean(string value) => value == "true";

    public long AsInteger(string value) => long.Parse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
}
