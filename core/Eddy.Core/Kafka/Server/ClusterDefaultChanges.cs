using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Runtime;

namespace Eddy.Kafka.Server;

/// <summary>
/// AlterConfigs and IncrementalAlterConfigs on the BROKER resource named "" (Kafka's cluster-wide dynamic defaults):
/// the broker configs that are cluster properties (<see cref="ClusterProperty.KafkaName"/>) change the cluster's
/// config, through the controller, as the admin API's PUT /v1/cluster_config does. Every other broker config stays
/// read-only, and a broker named by its id takes no overrides of its own yet.
/// </summary>
internal static class ClusterDefaultChanges
{
    /// <summary>Sets <paramref name="sets"/> (Kafka names and values) and deletes <paramref name="deletes"/> (Kafka
    /// names; one that is no cluster property is a no-op, as deleting an absent override is in Kafka).</summary>
    public static async ValueTask<(short Error, string? Message)> ApplyAsync(TopicTable table, string resourceName, int nodeId,
        IReadOnlyList<KeyValuePair<string, string>> sets, IReadOnlyList<string> deletes, bool validateOnly)
    {
        if (ConfigResources.CheckBrokerName(resourceName, nodeId, out bool isDefaults) is { } problem)
        {
            return (KafkaErrors.InvalidRequest, problem);
        }
        if (!isDefaults)
        {
            return sets.Count == 0
                ? (KafkaErrors.None, null)
                : (KafkaErrors.InvalidRequest, $"broker {resourceName} takes no overrides of its own: set {string.Join(", ", sets.Select(s => s.Key))} on the cluster-wide default (the broker resource named \"\")");
        }
        var readOnly = sets.Select(s => s.Key).Where(name => !ClusterProperties.TryGetByKafkaName(name, out _)).ToList();
        if (readOnly.Count > 0)
        {
            return (KafkaErrors.InvalidRequest, $"cannot update these broker configs dynamically: {string.Join(", ", readOnly)} (set them in the node's configuration)");
        }
        var upserts = new List<KeyValuePair<string, string>>();
        foreach (var (kafkaName, raw) in sets)
        {
            ClusterProperties.TryGetByKafkaName(kafkaName, out var property);
            string value = property.Type == ClusterPropertyType.Boolean ? raw.Trim().ToLowerInvariant() : raw.Trim();
            if (property.Check(value) is { } why)
            {
                return (KafkaErrors.InvalidConfig, $"invalid value for {kafkaName}: {why}");
            }
            upserts.Add(new(property.Name, value));
        }
        var removes = deletes.Select(name => ClusterProperties.TryGetByKafkaName(name, out var property) ? property.Name : null)
            .OfType<string>().Where(name => upserts.All(u => u.Key != name)).ToList();
        if (validateOnly || (upserts.Count == 0 && removes.Count == 0))
        {
            return (KafkaErrors.None, null);
        }
        var controller = table.Controller;
        try
        {
            await Smp.SubmitTo(Controller.Shard, () => controller.ExecuteAsync(ControllerCommand.SetClusterConfig(upserts, removes)));
            return (KafkaErrors.None, null);
        }
        catch (ControllerUnavailableException e)
        {
            return (KafkaErrors.RequestTimedOut, $"the cluster config change was not applied: {e.Message}");
        }
    }
}
