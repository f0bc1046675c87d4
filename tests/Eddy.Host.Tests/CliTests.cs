namespace Eddy.Host.Tests;

/// <summary>
/// The `eddy` client commands (docs/cli.md) of the published binary against one running node: what each prints, what
/// it changes (checked through another command, or through kcat, a client not ours), and its exit code:
/// 0 done, 1 failed with one line naming the cause, 2 bad usage.
/// </summary>
public sealed class CliTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"eddy-cli-{Guid.NewGuid():N}");
    private EddyProcess _eddy = null!;

    public async Task InitializeAsync()
    {
        _eddy = await EddyProcess.StartAsync("--smp", "1", "--kafka-addr", "127.0.0.1:0", "--data-dir", _data);
        Assert.True(_eddy.AdminPort > 0, $"eddy said where its admin API listens:\n{_eddy.Output}");
    }

    public async Task DisposeAsync()
    {
        await _eddy.StopAsync(15);
        _eddy.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    /// <summary>`eddy ARGS` against this test's node.</summary>
    private Task<EddyCli> Eddy(params string[] args) => EddyCli.RunAsync([.. args, "-b", _eddy.Bootstrap, "--admin-url", $"127.0.0.1:{_eddy.AdminPort}"]);

    private Task<EddyCli> EddyWithInput(string input, params string[] args) =>
        EddyCli.RunWithInputAsync(input, [.. args, "-b", _eddy.Bootstrap, "--admin-url", $"127.0.0.1:{_eddy.AdminPort}"]);

    private static void Done(EddyCli run) => Assert.True(run.ExitCode == 0, run.ToString());

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task TopicCommandsCreateDescribeAlterGrowAndDelete()
    {
        Done(await Eddy("topic", "create", "orders", "-p", "2", "-r", "1", "-c", "retention.ms=3600000"));
        var again = await Eddy("topic", "create", "orders");
        Assert.Equal(1, again.ExitCode);
        Assert.Equal("eddy topic create: create topic orders: TOPIC_ALREADY_EXISTS", Assert.Single(Lines(again.Error)).Split(" (")[0]);

        var list = await Eddy("topic", "list");
        Done(list);
        Assert.Contains(Lines(list.Output), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["orders", "2", "1"]);

        var described = await Eddy("topic", "describe", "orders");
        Done(described);
        Assert.Contains(Lines(described.Output), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["retention.ms", "3600000", "topic"]);
        Assert.Contains(Lines(described.Output), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["1", "1", _, "[1]", "[1]", "0", "0"]);

        Done(await Eddy("topic", "alter-config", "orders", "--set", "cleanup.policy=compact", "--delete", "retention.ms"));
        var altered = await Eddy("topic", "describe", "orders");
        Assert.Contains("cleanup.policy", altered.Output);
        Assert.DoesNotContain("retention.ms", altered.Output);

        Done(await Eddy("topic", "add-partitions", "orders", "--total", "5"));
        Assert.Contains(Lines((await Eddy("topic", "list")).Output), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["orders", "5", "1"]);

        Done(await Eddy("topic", "delete", "orders"));
        Assert.DoesNotContain("orders", (await Eddy("topic", "list")).Output);
    }

    [Fact]
    public async Task ProducedLinesComeBackWithTheirKeysHeadersAndOffsets()
    {
        Done(await Eddy("topic", "create", "lines", "-p", "1"));
        var produced = await EddyWithInput("k1:first\nk2:second\nno key here\n", "produce", "lines", "-K", ":", "-H", "source=cli");
        Done(produced);
        Assert.Contains("produced 3 records to lines", produced.Error);

        var consumed = await Eddy("consume", "lines", "-e", "-f", @"%p/%o %k=%v [%h]\n");
        Done(consumed);
        Assert.Equal(["0/0 k1=first [source=cli]", "0/1 k2=second [source=cli]", "0/2 =no key here [source=cli]"], Lines(consumed.Output));

        // From an offset, and a count.
        Assert.Equal(["second"], Lines((await Eddy("consume", "lines", "-o", "1", "-n", "1")).Output));

        // Another client (Debian's kcat, on librdkafka) reads the same records: the CLI's batches are Kafka's.
        var (code, read, error) = await ChildProcess.RunAsync("kcat", null, "-C", "-b", _eddy.Bootstrap, "-t", "lines", "-o", "beginning", "-e", "-q",
            "-f", @"%k|%s|%h\n");
        Assert.True(code == 0, $"kcat exited {code}: {error}");
        Assert.Equal(["k1|first|source=cli", "k2|second|source=cli", "|no key here|source=cli"], Lines(read));

        // A topic that does not exist yet is created on first use, as the node allows by default.
        Done(await EddyWithInput("made on the way\n", "produce", "auto-made"));
        Assert.Equal(["made on the way"], Lines((await Eddy("consume", "auto-made", "-e")).Output));
    }

    [Fact]
    public async Task KeysLandOnThePartitionsLibrdkafkasMurmur2PartitionerChooses()
    {
        Done(await Eddy("topic", "create", "ours", "-p", "5"));
        Done(await Eddy("topic", "create", "theirs", "-p", "5"));
        string input = string.Concat(Enumerable.Range(1, 40).Select(i => $"key{i}:v\n"));
        Done(await EddyWithInput(input, "produce", "ours", "-K", ":"));
        // kcat with librdkafka's murmur2_random partitioner: the Java client's placement of keyed records.
        var (code, _, error) = await ChildProcess.RunAsync("kcat", input, "-P", "-b", _eddy.Bootstrap, "-t", "theirs", "-K", ":", "-X", "topic.partitioner=murmur2_random");
        Assert.True(code == 0, $"kcat exited {code}: {error}");
        var ours = Lines((await Eddy("consume", "ours", "-e", "-f", @"%k %p\n")).Output).Order(StringComparer.Ordinal).ToArray();
        var theirs = Lines((await Eddy("consume", "theirs", "-e", "-f", @"%k %p\n")).Output).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(40, ours.Length);
        Assert.True(ours.Select(l => l.Split(' ')[1]).Distinct().Count() > 1, "every key on one partition proves nothing");
        Assert.Equal(theirs, ours);
    }

    [Fact]
    public async Task GroupOffsetsAreCommittedDescribedMovedAndDeleted()
    {
        Done(await Eddy("topic", "create", "jobs", "-p", "2"));
        Done(await EddyWithInput("a\nb\nc\n", "produce", "jobs", "-p", "0"));
        Done(await EddyWithInput("d\n", "produce", "jobs", "-p", "1"));

        Assert.Equal(4, Lines((await Eddy("consume", "jobs", "-e", "-g", "workers")).Output).Length);
        Assert.Contains(Lines((await Eddy("group", "list")).Output), l => l.StartsWith("workers ", StringComparison.Ordinal));
        var described = await Eddy("group", "describe", "workers");
        Done(described);
        Assert.Contains(Lines(described.Output), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["jobs", "0", "3", "3", "0"]);

        // A second read in the group starts where the first committed: nothing new.
        Assert.Empty(Lines((await Eddy("consume", "jobs", "-e", "-g", "workers")).Output));

        Done(await Eddy("group", "seek", "workers", "-t", "jobs", "--to", "1", "-p", "0"));
        Assert.Contains(Lines((await Eddy("group", "describe", "workers")).Output), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["jobs", "0", "1", "3", "2"]);
        Assert.Equal(["b", "c"], Lines((await Eddy("consume", "jobs", "-e", "-g", "workers")).Output));

        Done(await Eddy("group", "delete", "workers"));
        var gone = await Eddy("group", "describe", "workers");
        Assert.DoesNotContain("jobs", gone.Output);
    }

    [Fact]
    public async Task AGroupReaderStoppedByItsCountCommitsOnlyWhatItPrinted()
    {
        Done(await Eddy("topic", "create", "counted", "-p", "1"));
        Done(await EddyWithInput("a\nb\nc\n", "produce", "counted"));
        // One fetch brings all three; the first reader prints one and must leave the other two to the next.
        Assert.Equal(["a"], Lines((await Eddy("consume", "counted", "-g", "readers", "-n", "1")).Output));
        Assert.Equal(["b", "c"], Lines((await Eddy("consume", "counted", "-g", "readers", "-e")).Output));
    }

    [Fact]
    public async Task TwoConsumersInOneGroupSplitThePartitions()
    {
        Done(await Eddy("topic", "create", "split", "-p", "2"));
        Done(await EddyWithInput("a0\nb0\n", "produce", "split", "-p", "0"));
        Done(await EddyWithInput("a1\nb1\n", "produce", "split", "-p", "1"));

        // Both join within the coordinator's initial rebalance delay (3 s), so the first generation has both, and the
        // range assignor gives each one partition; each stops after its two records, commits and leaves.
        var both = await Task.WhenAll(Eddy("consume", "split", "-g", "pair", "-n", "2", "-f", @"%p %v\n"), Eddy("consume", "split", "-g", "pair", "-n", "2", "-f", @"%p %v\n"));
        Assert.All(both, Done);
        var read = both.Select(r => Lines(r.Output)).ToArray();
        Assert.Equal(["0 a0", "0 b0", "1 a1", "1 b1"], read.SelectMany(lines => lines).Order(StringComparer.Ordinal));
        Assert.All(read, lines => Assert.Single(lines.Select(l => l[0]).Distinct()));
        var described = await Eddy("group", "describe", "pair");
        Assert.Contains(Lines(described.Output), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["split", "0", "2", "2", "0"]);
        Assert.Contains(Lines(described.Output), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["split", "1", "2", "2", "0"]);
        Assert.Contains(Lines(described.Output), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["MEMBERS", "0"]);
    }

    [Fact]
    public async Task ClusterCommandsReportTheNodeAndChangeTheClusterConfig()
    {
        var info = await Eddy("cluster", "info");
        Done(info);
        Assert.Contains(Lines(info.Output), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["1*", "127.0.0.1", var port] && port == _eddy.Port.ToString());
        var health = await Eddy("cluster", "health");
        Done(health);
        Assert.Contains(Lines(health.Output), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["is_healthy", "true"]);

        Done(await Eddy("cluster", "config", "set", "default_topic_partitions=4", "auto_create_topics_enabled=false"));
        Assert.Equal(["4"], Lines((await Eddy("cluster", "config", "get", "default_topic_partitions")).Output));
        Assert.Equal(["false"], Lines((await Eddy("cluster", "config", "get", "auto_create_topics_enabled")).Output));
        var refused = await Eddy("cluster", "config", "set", "default_topic_partitions=0");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("default_topic_partitions: 0 is outside", Assert.Single(Lines(refused.Error)));

        // Export, change the file, import: only what differs is sent, in one change.
        string file = Path.Combine(_data, "..", $"eddy-cli-config-{Guid.NewGuid():N}.json");
        try
        {
            Done(await Eddy("cluster", "config", "export", "-f", file));
            File.WriteAllText(file, File.ReadAllText(file).Replace("\"default_topic_partitions\": 4", "\"default_topic_partitions\": 6", StringComparison.Ordinal));
            var imported = await Eddy("cluster", "config", "import", file);
            Done(imported);
            Assert.StartsWith("changed default_topic_partitions;", imported.Output);
            Assert.Equal(["6"], Lines((await Eddy("cluster", "config", "get", "default_topic_partitions")).Output));
            Done(await Eddy("topic", "create", "sized"));

            // Edit: $EDITOR changes the file in place; what differs is applied.
            var edited = await EddyCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["EDITOR"] = "sed -i 's/\"default_topic_partitions\": 6/\"default_topic_partitions\": 2/'" },
                "cluster", "config", "edit", "--admin-url", $"127.0.0.1:{_eddy.AdminPort}");
            Done(edited);
            Assert.Equal(["2"], Lines((await Eddy("cluster", "config", "get", "default_topic_partitions")).Output));
            Assert.Contains(Lines((await Eddy("topic", "list")).Output), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["sized", "6", "1"]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task BadUsageExitsTwoAndFailuresExitOneWithOneLine()
    {
        Assert.Equal(2, (await EddyCli.RunAsync("no-such-command")).ExitCode);
        Assert.Equal(2, (await EddyCli.RunAsync("consume")).ExitCode);
        Assert.Equal(2, (await Eddy("produce", "t", "--acks", "2")).ExitCode);
        Assert.Equal(2, (await Eddy("consume", "t", "-o", "yesterday")).ExitCode);
        Assert.Equal(2, (await EddyCli.RunAsync()).ExitCode);

        var missing = await Eddy("consume", "no-such-topic", "-e");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("eddy consume: topic no-such-topic: UNKNOWN_TOPIC_OR_PARTITION", Assert.Single(Lines(missing.Error)));

        var unreachable = await EddyCli.RunAsync("topic", "list", "-b", "127.0.0.1:1");
        Assert.Equal(1, unreachable.ExitCode);
        Assert.StartsWith("eddy topic list: cannot connect to 127.0.0.1:1", Assert.Single(Lines(unreachable.Error)));
    }

    [Fact]
    public async Task TheVariablesNameTheClusterWhenNoOptionDoes()
    {
        Done(await Eddy("topic", "create", "by-variable"));
        var environment = new Dictionary<string, string>
        {
            ["EDDY_BROKERS"] = _eddy.Bootstrap, ["EDDY_ADMIN_URL"] = $"http://127.0.0.1:{_eddy.AdminPort}",
        };
        var listed = await EddyCli.RunWithEnvironmentAsync(environment, "topic", "list");
        Done(listed);
        Assert.Contains("by-variable", listed.Output);
        Done(await EddyCli.RunWithEnvironmentAsync(environment, "cluster", "health"));
        // An option wins over the variable.
        var overridden = await EddyCli.RunWithEnvironmentAsync(environment, "topic", "list", "-b", "127.0.0.1:1");
        Assert.Equal(1, overridden.ExitCode);
    }

    [Theory]
    [InlineData("topic create")]
    [InlineData("topic list")]
    [InlineData("topic describe")]
    [InlineData("topic delete")]
    [InlineData("topic alter-config")]
    [InlineData("topic add-partitions")]
    [InlineData("produce")]
    [InlineData("consume")]
    [InlineData("group list")]
    [InlineData("group describe")]
    [InlineData("group delete")]
    [InlineData("group seek")]
    [InlineData("cluster info")]
    [InlineData("cluster health")]
    [InlineData("cluster partitions")]
    [InlineData("cluster config get")]
    [InlineData("cluster config set")]
    [InlineData("cluster config edit")]
    [InlineData("cluster config export")]
    [InlineData("cluster config import")]
    [InlineData("bench produce")]
    [InlineData("bench consume")]
    [InlineData("top")]
    [InlineData("completion")]
    public async Task EveryCommandHasHelp(string command)
    {
        var help = await EddyCli.RunAsync([.. command.Split(' '), "--help"]);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains($"eddy {command}", help.Output);
        Assert.Contains("Options:", help.Output);
    }

    [Fact]
    public async Task CompletionScriptAsksTheBinaryForItsCommands()
    {
        var script = await EddyCli.RunAsync("completion", "bash");
        Done(script);
        Assert.Contains("complete -o default -F _eddy_complete eddy", script.Output);
        var suggested = await EddyCli.RunAsync("[suggest:13]", "eddy topic cr");
        Assert.Contains("create", Lines(suggested.Output));
    }

    [Fact]
    public async Task BenchConsumeCheckCatchesLossDuplicatesAndCorruption()
    {
        string acked = Path.Combine(_data, "..", $"eddy-cli-acked-{Guid.NewGuid():N}.bin");
        try
        {
            var produced = await Eddy("bench", "produce", "checked", "-n", "1000", "-s", "100", "-p", "2", "-o", acked);
            Done(produced);
            Assert.Equal(1000, produced["delivered"]);
            Assert.Equal(8000, new FileInfo(acked).Length);
            var clean = await Eddy("bench", "consume", "checked", "-n", "1000", "-k", acked);
            Done(clean);
            Assert.Equal((1000, 0, 0), (clean["read"], clean["missing"], clean["duplicates"]));

            // An acknowledgement for a message that is not in the log: missing.
            await using (var file = new FileStream(acked, FileMode.Append))
            {
                file.Write([0, 0, 0, 0, 0, 0, 0x05, 0xDC]); // id 1500
            }
            var lost = await Eddy("bench", "consume", "checked", "-n", "2000", "-k", acked, "-T", "5");
            Assert.Equal(1, lost.ExitCode);
            Assert.Equal(1, lost["missing"]);

            // The same messages twice: duplicates. A line that is no bench message: corrupt.
            Done(await Eddy("bench", "produce", "checked", "-n", "1000", "-s", "100"));
            Done(await EddyWithInput("not a bench message\n", "produce", "checked"));
            var doubled = await Eddy("bench", "consume", "checked", "-n", "2000", "-k", acked, "-T", "5");
            Assert.Equal(1, doubled.ExitCode);
            Assert.Equal((1000, 1), (doubled["duplicates"], doubled["corrupt"]));
        }
        finally
        {
            File.Delete(acked);
        }
    }
}
