using Eddy.Cluster;

namespace Eddy.Cluster.Tests;

/// <summary>
/// A per-node cluster property's own value for one node (NAME@NODE_ID) wins over the cluster's on that node only; a
/// key naming a property that is the same on every node, or no node, is refused with why; the roles property reads
/// role lists, refuses unknown roles, and runs every role by default.
/// </summary>
public class PerNodePropertyTests
{
    [Fact]
    public void ANodesOwnValueWinsOnThatNodeOnly()
    {
        var config = new Dictionary<string, string> { ["log_level"] = "warn", ["log_level@2"] = "debug" };
        Assert.Equal("debug", ClusterProperties.SetIn(config, ClusterProperties.LogLevelProperty, 2));
        Assert.Equal("warn", ClusterProperties.SetIn(config, ClusterProperties.LogLevelProperty, 1));
        Assert.Equal("warn", ClusterProperties.SetIn(config, ClusterProperties.LogLevelProperty));
        // A bad value set for one node (by a node that checked differently) falls back to the cluster's.
        config["log_level@3"] = "loud";
        Assert.Equal("warn", ClusterProperties.SetIn(config, ClusterProperties.LogLevelProperty, 3));
    }

    [Theory]
    [InlineData("roles", 0, null)]
    [InlineData("roles@7", 7, null)]
    [InlineData("log_level@12", 12, null)]
    [InlineData("roles@0", 0, "'0' is not a node id")]
    [InlineData("roles@x", 0, "'x' is not a node id")]
    [InlineData("roles@-1", 0, "'-1' is not a node id")]
    [InlineData("default_topic_partitions@2", 0, "default_topic_partitions is the same on every node: it takes no node's own value")]
    [InlineData("nothing@2", 0, "no such cluster property")]
    [InlineData("nothing", 0, "no such cluster property")]
    public void KeysNameAPropertyAndForPerNodeOnesANode(string key, int node, string? problem)
    {
        Assert.Equal(problem, ClusterProperties.ParseKey(key, out _, out int parsed));
        Assert.Equal(node, parsed);
    }

    [Fact]
    public void RolesAreAListOfKnownRolesAndEveryRoleByDefault()
    {
        Assert.Null(NodeRoles.Parse("kafka", out var roles));
        Assert.Equal(NodeRole.Kafka, roles);
        Assert.Null(NodeRoles.Parse(" kafka , ", out roles));
        Assert.Equal(NodeRole.Kafka, roles);
        Assert.Null(NodeRoles.Parse("", out roles));
        Assert.Equal(NodeRole.None, roles);
        Assert.Equal("'ftp' is not a role (roles: kafka)", NodeRoles.Parse("kafka,ftp", out _));
        Assert.NotNull(ClusterProperties.Roles.Check("ftp"));

        var config = new Dictionary<string, string> { ["roles@2"] = "" };
        Assert.True(NodeRoles.Runs(new Dictionary<string, string>(), 1, NodeRole.Kafka));
        Assert.True(NodeRoles.Runs(config, 1, NodeRole.Kafka));
        Assert.False(NodeRoles.Runs(config, 2, NodeRole.Kafka));
        Assert.Equal(["kafka"], NodeRoles.Names(NodeRoles.Of(config, 1)));
        Assert.Empty(NodeRoles.Names(NodeRoles.Of(config, 2)));
    }
}
