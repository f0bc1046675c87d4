namespace Eddy.Cluster;

/// <summary>The services a node runs for clients. The admin API is no role: it always runs, so a node can be reached
/// to turn its roles back on.</summary>
[Flags]
public enum NodeRole
{
    None = 0,

    /// <summary>The Kafka API: the node listens for Kafka clients, is listed in Metadata, and leads partitions.</summary>
    Kafka = 1,
}

/// <summary>
/// Which roles each node runs: the cluster property <c>roles</c> (<see cref="ClusterProperties.Roles"/>), the node's
/// own value (<c>roles@NODE_ID</c>) over the cluster's, by default every role. The HTTP proxy and the schema registry
/// join the list as they are built.
/// </summary>
public static class NodeRoles
{
    private static readonly (string Name, NodeRole Role)[] Known = [("kafka", NodeRole.Kafka)];

    /// <summary>Reads a comma-separated list of role names; returns why it cannot, or null.</summary>
    public static string? Parse(string value, out NodeRole roles)
    {
        roles = NodeRole.None;
        foreach (string name in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int known = Array.FindIndex(Known, k => k.Name == name);
            if (known < 0)
            {
                return $"'{name}' is not a role (roles: {string.Join(", ", Known.Select(k => k.Name))})";
            }
            roles |= Known[known].Role;
        }
        return null;
    }

    /// <summary>The roles node <paramref name="nodeId"/> runs under <paramref name="config"/>.</summary>
    public static NodeRole Of(IReadOnlyDictionary<string, string> config, int nodeId)
    {
        Parse(ClusterProperties.SetIn(config, ClusterProperties.Roles, nodeId) ?? ClusterProperties.Roles.Default, out var roles);
        return roles;
    }

    public static bool Runs(IReadOnlyDictionary<string, string> config, int nodeId, NodeRole role) => (Of(config, nodeId) & role) == role;

    /// <summary>The names of <paramref name="roles"/>, as the admin API lists them.</summary>
    public static IEnumerable<string> Names(NodeRole roles) => Known.Where(k => (roles & k.Role) != 0).Select(k => k.Name);
}
