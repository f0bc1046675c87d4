using Eddy.Cluster;
using Eddy.Errors;
using Eddy.Runtime;

namespace Eddy.Kafka.Server;

/// <summary>
/// AlterConfigs and IncrementalAlterConfigs on the BROKER resource: the broker configs that are cluster properties
/// (named as <see cref="ClusterProperties.KafkaNameOf"/> says) change the cluster's config, through the controller, as
/// the admin API's PUT /v1/cluster_config does. On the resource named "" (Kafka's cluster-wide dynamic defaults) they
/// set the cluster's value; on the one named by this node's id, this node's own value of a per-node property
/// (<c>NAME@NODE_ID</c>, Kafka's DYNAMIC_BROKER_CONFIG). Every other broker config stays read-only.
/// </summary>
internal static class ClusterDefaultChanges
{
    /// <summary>Sets <paramref name="sets"/> (Kafka names and values) and deletes <paramref name="deletes"/> (Kafka
    /// names; one that is no cluster property, or has no value of this node's own, is a no-op, as deleting an absent
    /// override is in Kafka).</summary>
    public static async ValueTask<(short Error, string? Message)> ApplyAsync(TopicTable table, string resourceName, int nodeId,
        IReadOnlyList<KeyValuePair<string, string>> sets, IReadOnlyList<string> deletes, bool validateOnly)
    {
        if (ConfigResources.CheckBrokerName(resourceName, nodeId, out bool isDefaults) is { } problem)
        {
            return (KafkaErrors.InvalidRequest, problem);
        }
        var readOnly = sets.Select(s => s.Key).Where(name => !ClusterProperties.TryGetByKafkaName(name, out _)).ToList();
        if (readOnly.Count > 0)
        {
            return (KafkaErrors.InvalidRequest, $"cannot update these broker configs dynamically: {string.Join(", ", readOnly)} (set them in the node's configuration)");
        }
        if (!isDefaults && sets.FirstOrDefault(s => ClusterProperties.TryGetByKafkaName(s.Key, out var p) && !p.PerNode) is { Key: not null } shared)
        {
            return (KafkaErrors.InvalidRequest, $"broker {resourceName} takes no value of its own for {shared.Key}: it is the same on every node; set it on the cluster-wide default (the broker resource named \"\")");
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
            upserts.Add(new(KeyOf(property), value));
        }
        var removes = deletes.Select(name => ClusterProperties.TryGetByKafkaName(name, out var property) && (isDefaults || property.PerNode) ? KeyOf(property) : null)
            .OfType<string>().Where(key => upserts.All(u => u.Key != key) && table.Controller.View.Config.ContainsKey(key)).ToList();
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

        string KeyOf(ClusterProperty property) => isDefaults ? property.Name : ClusterProperties.KeyFor(property, nodeId);
    }
}
