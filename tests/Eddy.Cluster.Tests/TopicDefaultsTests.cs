using Eddy.Cluster;

namespace Eddy.Cluster.Tests;

/// <summary>
/// Every topic config but compression.type has a cluster property that is its default, with the same built-in value
/// and the same notion of a good value; a topic's own setting wins over the cluster's, the cluster's over the node's,
/// the node's over the built-in default; and the table of defaults is made once per config.
/// </summary>
public class TopicDefaultsTests
{
    private static readonly BrokerOptions Node = new() { DataDirectory = "", MinInsyncReplicas = 2 };

    [Fact]
    public void EveryTopicConfigButCompressionHasAClusterDefaultThatAgreesWithIt()
    {
        foreach (var config in TopicConfigs.All)
        {
            var property = ClusterProperties.DefaultOf(config.Name);
            if (config.Name == TopicConfigs.CompressionType)
            {
                Assert.Null(property);
                continue;
            }
            Assert.NotNull(property);
            Assert.Equal(config.Default, property.Default);
            Assert.True(ClusterProperties.TryGet(property.Name, out _), $"{property.Name} is not in the table of cluster properties");
            foreach (string sample in new[] { config.Default, "-2", "-1", "0", "1", "65536", "compact", "delete,compact", "LogAppendTime", "x", "99999999999" })
            {
                Assert.True((config.Validate(sample) is null) == (property.Check(sample) is null),
                    $"{config.Name} and {property.Name} disagree about '{sample}'");
            }
        }
    }

    [Fact]
    public void TheTopicsOwnSettingWinsThenTheClustersThenTheNodesThenTheBuiltIn()
    {
        var config = new Dictionary<string, string> { ["log_retention_ms"] = "1000" };
        var defaults = TopicDefaults.For(config, Node);
        var plain = new TopicInfo("plain", Guid.NewGuid(), 1, 1, new Dictionary<string, string>(), 0, false);
        var own = plain with { Configs = new Dictionary<string, string> { ["retention.ms"] = "5", ["min.insync.replicas"] = "1" } };

        Assert.Equal(("1000", TopicDefaultSource.Cluster), defaults.Of(TopicConfigs.RetentionMs));
        Assert.Equal(1000, defaults.LongIn(plain, TopicConfigs.RetentionMs));
        Assert.Equal(5, defaults.LongIn(own, TopicConfigs.RetentionMs));
        Assert.Equal(("2", TopicDefaultSource.Node), defaults.Of(TopicConfigs.MinInsyncReplicas));
        Assert.Equal(1, TopicConfigs.MinInsyncReplicasOf(own, defaults));
        Assert.Equal(("delete", TopicDefaultSource.BuiltIn), defaults.Of(TopicConfigs.CleanupPolicy));

        var clusterWins = TopicDefaults.For(new Dictionary<string, string> { ["min_insync_replicas"] = "3" }, Node);
        Assert.Equal(3, TopicConfigs.MinInsyncReplicasOf(plain, clusterWins));
        // A value the property refuses (set by a node that checked differently) is not taken.
        var refused = TopicDefaults.For(new Dictionary<string, string> { ["log_segment_size"] = "12" }, Node);
        Assert.Equal(("134217728", TopicDefaultSource.BuiltIn), refused.Of(TopicConfigs.SegmentBytes));
    }

    [Fact]
    public void TheLogTakesTheDefaultsOfWhatTheTopicDoesNotSet()
    {
        var defaults = TopicDefaults.For(new Dictionary<string, string> { ["log_cleanup_policy"] = "compact", ["log_segment_size"] = "1048576" }, Node);
        var topic = new TopicInfo("t", Guid.NewGuid(), 1, 1, new Dictionary<string, string> { ["segment.ms"] = "1000" }, 0, false);
        var options = TopicConfigs.ToLogOptions(topic, defaults, preallocateBytes: 32L << 20);
        Assert.Equal(Storage.CleanupPolicy.Compact, options.CleanupPolicy);
        Assert.Equal(1048576, options.SegmentBytes);
        Assert.Equal(1048576, options.PreallocateBytes);
        Assert.Equal(TimeSpan.FromSeconds(1), options.SegmentAge);
    }

    [Fact]
    public void OneTableOfDefaultsServesEveryReaderOfOneConfig()
    {
        var config = new Dictionary<string, string>();
        Assert.Same(TopicDefaults.For(config, Node), TopicDefaults.For(config, Node));
    }
}
