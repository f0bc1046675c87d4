namespace Eddy.Cluster;

/// <summary>One capability every node of a cluster must have before any node uses it: what it is, and the logical
/// version that brought it.</summary>
public sealed record ClusterFeature(string Name, int Version, string Description);

/// <summary>
/// The versions a node runs and the features they bring. The logical version is a plain number, raised by a release
/// that adds something every node must understand (a controller command, a field of a snapshot or of an RPC frame);
/// a cluster's version is the lowest its nodes run, and a feature is active once the cluster's version has reached the
/// feature's (docs/admin-api.md, /v1/features). The software version is the product's (Directory.Build.props).
/// </summary>
public static class ClusterFeatures
{
    /// <summary>This build's logical version.</summary>
    public const int LogicalVersion = 1;

    /// <summary>A version string is short; the bound keeps a damaged answer from allocating.</summary>
    public const int MaxSoftwareVersionBytes = 64;

    public static string SoftwareVersion { get; } = typeof(ClusterFeatures).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Every feature, in the order they came.</summary>
    public static readonly IReadOnlyList<ClusterFeature> All =
    [
        new("replicated_partitions", 1, "partitions with several replicas, each a Raft group (docs/replication.md)"),
        new("rpc_batch_tail", 1, "RPC frames version 3: record batches travel in a tail the frame checksum leaves out (docs/rpc.md)"),
        new("central_config", 1, "cluster properties in the controller's log, with nodes' own values (docs/configuration.md)"),
        new("node_roles", 1, "a node's Kafka role switched at run time (docs/configuration.md, \"Roles\")"),
        new("node_drain", 1, "decommissioning drains a node before it is removed (docs/cluster.md)"),
    ];
}
