using System.Collections;
using Eddy.Config;

namespace Eddy.Host.Tests;

/// <summary>eddy.yaml, EDDY_* variables and flags, read in process against real files.</summary>
public sealed class NodeConfigLoaderTests : IDisposable
{
    private static readonly Dictionary<string, string> NoVariables = [];

    // A value other than the default for every property, and one each source must refuse.
    private static readonly Dictionary<string, (string Good, string Bad)> Samples = new()
    {
        ["data_dir"] = ("/var/lib/eddy", ""),
        ["kafka_addr"] = ("0.0.0.0:19092", "example.com:9092"),
        ["advertise_kafka_addr"] = ("broker.example:29092", "broker.example"),
        ["kafka_max_request_bytes"] = ("2048", "1023"),
        ["rpc_addr"] = ("127.0.0.2:33146", "127.0.0.1:65536"),
        ["advertise_rpc_addr"] = ("node1.example:33145", "node1.example"),
        ["admin_addr"] = ("127.0.0.3:9645", "127.0.0.1"),
        ["node_id"] = ("5", "-1"),
        ["seeds"] = ("a.example:33145,b.example:33145", "a.example:33145,b.example"),
        ["rack"] = ("rack-a", ""),
        ["smp"] = ("3", "1025"),
        ["io_backend"] = ("epoll", "kqueue"),
        ["log_level"] = ("debug", "loud"),
        ["log_format"] = ("json", "xml"),
        ["auto_create_topics"] = ("false", "yes"),
        ["default_partitions"] = ("6", "0"),
        ["batch_cache_bytes"] = ("1048576", "-1"),
        ["read_window_bytes"] = ("0", "1099511627777"),
        ["replica_lag_time_max_ms"] = ("10000", "99"),
        ["log_retention_check_interval_ms"] = ("1000", "99"),
        ["offsets_topic_replication_factor"] = ("1", "0"),
        ["test_lose_unsynced_writes"] = ("true", "sometimes"),
        ["min_insync_replicas"] = ("2", "0"),
    };

    private readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private NodeConfig Load(string[] args, Dictionary<string, string>? variables = null)
        => NodeConfigLoader.Load(args, variables ?? NoVariables, _dir.Path);

    private NodeConfigException Refused(string[] args, Dictionary<string, string>? variables = null)
        => Assert.Throws<NodeConfigException>(() => Load(args, variables));

    [Fact]
    public void EveryPropertyHasASample()
        => Assert.Equal(NodeProperties.All.Select(p => p.Name).Order(), Samples.Keys.Order());

    [Fact]
    public void NamesDeriveFromTheYamlKey()
    {
        var kafka = NodeProperties.FindByName("kafka_addr")!;
        Assert.Equal(("--kafka-addr", "EDDY_KAFKA_ADDR"), (kafka.Flag, kafka.EnvironmentVariable));
        Assert.Same(kafka, NodeProperties.FindByFlag("--kafka-addr"));
        Assert.Same(kafka, NodeProperties.FindByVariable("EDDY_KAFKA_ADDR"));
    }

    [Fact]
    public void NothingGivenMeansTheDefaults()
    {
        var config = Load([]);
        Assert.Equal(Describe(new NodeConfig()), Describe(config));
        Assert.Equal(("./eddy-data", "127.0.0.1:9092", true, 1, null), (config.DataDirectory, config.KafkaAddress.ToString(), config.AutoCreateTopics, config.DefaultPartitions, config.ConfigFile));
    }

    [Fact]
    public void AFlagAVariableAndAFileKeyReadTheSameValueAlike()
    {
        string defaults = Describe(new NodeConfig());
        foreach (var property in NodeProperties.All)
        {
            string value = Samples[property.Name].Good;
            string fromFlag = Describe(Load([$"{property.Flag}={value}"]));
            string fromVariable = Describe(Load([], new() { [property.EnvironmentVariable] = value }));
            string file = _dir.Write($"{property.Name}.yaml", $"{property.Name}: '{value}'\n");
            string fromFile = Describe(Load(["--config", file]).WithoutConfigFile());
            Assert.NotEqual(defaults, fromFlag);
            Assert.Equal(fromFlag, fromVariable);
            Assert.Equal(fromFlag, fromFile);
        }
    }

    [Fact]
    public void ABadValueIsRefusedInEverySourceByName()
    {
        foreach (var property in NodeProperties.All)
        {
            string bad = Samples[property.Name].Bad;
            Assert.StartsWith($"{property.Flag}: ", Assert.Single(Refused([$"{property.Flag}={bad}"]).Problems));
            if (bad.Length > 0) // an empty variable counts as unset
            {
                Assert.StartsWith($"{property.EnvironmentVariable}: ", Assert.Single(Refused([], new() { [property.EnvironmentVariable] = bad }).Problems));
            }
            string file = _dir.Write($"{property.Name}.yaml", $"# bad\n{property.Name}: '{bad}'\n");
            Assert.StartsWith($"{file}:2: {property.Name}: ", Assert.Single(Refused(["--config", file]).Problems));
        }
    }

    [Fact]
    public void FlagsWinOverVariablesWhichWinOverTheFile()
    {
        string file = _dir.Write("eddy.yaml", "smp: 2\nnode_id: 1\ndata_dir: from-file\n");
        var config = Load(["--smp", "4"], new() { ["EDDY_SMP"] = "3", ["EDDY_NODE_ID"] = "2" });
        Assert.Equal((4, 2, "from-file", file), (config.Shards, config.NodeId, config.DataDirectory, config.ConfigFile));
    }

    [Fact]
    public void EddyYamlInTheWorkingDirectoryIsReadUnlessAnotherFileIsNamed()
    {
        _dir.Write("eddy.yaml", "smp: 2\n");
        string other = _dir.Write("other.yaml", "node_id: 9\n");
        Assert.Equal(2, Load([]).Shards);
        var named = Load(["--config", "other.yaml"]); // relative to the working directory
        Assert.Equal((null, 9, other), (named.Shards, named.NodeId, named.ConfigFile));
        var byVariable = Load([], new() { ["EDDY_CONFIG"] = other });
        Assert.Equal((null, 9), (byVariable.Shards, byVariable.NodeId));
        Assert.Equal(9, Load(["--config", other], new() { ["EDDY_CONFIG"] = "missing.yaml" }).NodeId); // the flag wins
    }

    [Theory]
    [InlineData("--config", "--config: 'missing.yaml': no such file")]
    [InlineData("EDDY_CONFIG", "EDDY_CONFIG: 'missing.yaml': no such file")]
    public void AMissingConfigFileIsRefused(string source, string message)
    {
        var problems = source == "--config" ? Refused(["--config", "missing.yaml"]).Problems : Refused([], new() { ["EDDY_CONFIG"] = "missing.yaml" }).Problems;
        Assert.Equal(message, Assert.Single(problems));
    }

    [Fact]
    public void ADirectoryIsNotAConfigFile()
        => Assert.Equal($"--config: '{_dir.Path}' is a directory, not a file", Assert.Single(Refused(["--config", _dir.Path]).Problems));

    [Fact]
    public void AnEddySectionAndYamlListsAreRead()
    {
        string file = _dir.Write("eddy.yaml", """
            # Redpanda-style: settings under one section
            eddy:
              kafka_addr: "0.0.0.0:9093"   # quoted or not
              seeds:
                - a.example:33145
                - b.example:33145
              auto_create_topics: false
            default_partitions: 3
            """);
        var config = Load([]);
        Assert.Equal(("0.0.0.0:9093", "a.example:33145,b.example:33145", false, 3, file),
            (config.KafkaAddress.ToString(), string.Join(',', config.Seeds), config.AutoCreateTopics, config.DefaultPartitions, config.ConfigFile));
        _dir.Write("eddy.yaml", "seeds: [c.example:1, d.example:2]\n");
        Assert.Equal(["c.example:1", "d.example:2"], Load([]).Seeds);
    }

    [Fact]
    public void QuotedKeysAndValuesAreRead()
    {
        _dir.Write("eddy.yaml", "\"smp\": '2'\n'node_id': \"7\"\n");
        var config = Load([]);
        Assert.Equal((2, 7), (config.Shards, config.NodeId));
    }

    [Fact]
    public void AnEmptyFileOrOneOfCommentsSetsNothing()
    {
        _dir.Write("eddy.yaml", "");
        Assert.Equal(Describe(new NodeConfig()), Describe(Load([]).WithoutConfigFile()));
        _dir.Write("eddy.yaml", "# nothing yet\n");
        Assert.Equal(Describe(new NodeConfig()), Describe(Load([]).WithoutConfigFile()));
    }

    [Theory]
    [InlineData("smp: 2\nkafka_adr: 127.0.0.1:9092\n", "eddy.yaml:2: unknown key 'kafka_adr'")]
    [InlineData("smp: 2\nsmp: 3\n", "eddy.yaml:2: smp: set twice (first at line 1)")]
    [InlineData("smp: 2\neddy:\n  smp: 3\n", "eddy.yaml:3: smp: set twice (first at line 1)")]
    [InlineData("node_id: [1, 2]\n", "eddy.yaml:1: node_id: takes one value, not a list")]
    [InlineData("seeds:\n  - a:1\n  - [b:2]\n", "eddy.yaml:1: seeds: a list holds plain values only")]
    [InlineData("log_level:\n", "eddy.yaml:1: log_level: has no value")]
    [InlineData("kafka:\n  addr: 127.0.0.1:9092\n", "eddy.yaml:1: kafka: is a nested section")]
    [InlineData("smp: &n 2\n", "eddy.yaml:1: smp: anchors and tags are not read here")]
    [InlineData("smp: !!int 2\n", "eddy.yaml:1: smp: anchors and tags are not read here")]
    [InlineData("smp: 2\nnode_id: *n\n", "eddy.yaml:2: node_id: aliases are not read here")]
    [InlineData("- smp: 2\n", "eddy.yaml:1: the file must be a mapping")]
    [InlineData("smp: 2\n---\nsmp: 3\n", "eddy.yaml:2: only one YAML document is read")]
    [InlineData("smp: 2\ndata_dir: \"unterminated\n", "eddy.yaml:2: not valid YAML")]
    [InlineData("smp: 2\n  node_id: 3\n", "eddy.yaml:2: not valid YAML")]
    [InlineData("[smp]: 2\n", "eddy.yaml:1: a key must be a name")]
    [InlineData("just words\n", "eddy.yaml:1: the file must be a mapping")]
    [InlineData("!!str smp: 2\n", "eddy.yaml:1: smp: anchors and tags are not read here")]
    public void AFileThatIsNotAFlatMappingOfKnownKeysIsRefusedWithFileAndLine(string yaml, string message)
    {
        _dir.Write("eddy.yaml", yaml);
        var problem = Assert.Single(Refused([]).Problems);
        Assert.StartsWith(message, problem);
    }

    [Fact]
    public void EveryProblemIsReportedTogetherFileFirstInLineOrder()
    {
        _dir.Write("eddy.yaml", "kafka_adr: x\nsmp: 0\nlog_level:\n");
        var problems = Refused(["--bogus", "--node-id=x"], new() { ["EDDY_SMPP"] = "1" }).Problems;
        Assert.Equal(6, problems.Count);
        Assert.StartsWith("unknown flag '--bogus'", problems[0]);
        Assert.StartsWith("EDDY_SMPP: unknown variable", problems[1]);
        Assert.StartsWith("eddy.yaml:1: unknown key 'kafka_adr'", problems[2]);
        Assert.StartsWith("eddy.yaml:2: smp: '0' is not a whole number within [1, 1024]", problems[3]);
        Assert.StartsWith("eddy.yaml:3: log_level: has no value", problems[4]);
        Assert.StartsWith("--node-id: 'x' is not a whole number", problems[5]);
    }

    [Fact]
    public void OtherEddyToolsVariablesAndEmptyVariablesAreLeftAlone()
    {
        var config = Load([], new() { ["EDDY_RECAPTURE"] = "1", ["EDDY_BENCH_PIN"] = "0", ["EDDY_SMP"] = "", ["PATH"] = "/bin" });
        Assert.Null(config.Shards);
    }

    [Fact]
    public void EddyIoBackendKeepsWorking()
        => Assert.Equal(Runtime.IO.IoBackendKind.Epoll, Load([], new() { ["EDDY_IO_BACKEND"] = "epoll" }).IoBackend);

    [Theory]
    [InlineData(new[] { "--auto-create-topics" }, true, null)]
    [InlineData(new[] { "--auto-create-topics=false" }, false, null)]
    [InlineData(new[] { "--auto-create-topics", "false", "--smp", "2" }, false, 2)]
    [InlineData(new[] { "--auto-create-topics", "--smp", "2" }, true, 2)]
    public void ASwitchAloneMeansTrue(string[] args, bool autoCreate, int? shards)
    {
        var config = Load(["--auto-create-topics=false", .. args]);
        Assert.Equal((autoCreate, shards), (config.AutoCreateTopics, config.Shards));
    }

    [Fact]
    public void ARepeatedFlagTakesTheLastValue() => Assert.Equal(3, Load(["--smp", "2", "--smp=3"]).Shards);

    // Every public setting, as text, to compare whole configurations.
    private static string Describe(NodeConfig config)
        => string.Join("; ", typeof(NodeConfig).GetProperties().Select(p => $"{p.Name}={Format(p.GetValue(config))}"));

    private static string Format(object? value) => value switch
    {
        null => "null",
        string s => s,
        IEnumerable items => string.Join(',', items.Cast<object>()),
        _ => value.ToString() ?? "",
    };
}

internal static class NodeConfigTestExtensions
{
    public static NodeConfig WithoutConfigFile(this NodeConfig config)
    {
        config.ConfigFile = null;
        return config;
    }
}
