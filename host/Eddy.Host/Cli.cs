using System.CommandLine;
using Eddy.Config;
using Eddy.Host.Commands;

namespace Eddy.Host;

/// <summary>
/// Command dispatch for the `eddy` executable: `start` runs a node (its flags are the node settings, parsed by
/// <see cref="NodeConfigLoader"/>); every other command is a client of a running cluster (docs/cli.md), parsed by
/// System.CommandLine. Exit codes: 0 done, 1 failed, 2 bad usage.
/// </summary>
internal static class Cli
{
    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "start")
        {
            return Start(args[1..]);
        }
        if (args is ["--version" or "version"])
        {
            Console.WriteLine($"eddy {Version}");
            return CommandRunner.Done;
        }
        var root = BuildRoot();
        var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                Console.Error.WriteLine($"eddy: {error.Message}");
            }
            Console.Error.WriteLine("eddy: see 'eddy --help', or COMMAND --help");
            return CommandRunner.BadUsage;
        }
        int code = parse.Invoke();
        return args.Length == 0 ? CommandRunner.BadUsage : code;
    }

    public static string Version => Eddy.Cluster.ClusterFeatures.SoftwareVersion;

    private static RootCommand BuildRoot()
    {
        var root = new RootCommand($"eddy {Version}: a Kafka-compatible streaming log. One binary runs a node (eddy start) and is its client.");
        root.Options.Add(CliOptions.Brokers);
        root.Options.Add(CliOptions.AdminUrl);
        // Listed for --help; `start` itself is dispatched before this parser, since its flags are the node settings.
        root.Subcommands.Add(new Command("start", "Run a node (eddy start --help lists its settings)") { TreatUnmatchedTokensAsErrors = false });
        root.Subcommands.Add(TopicCommands.Build());
        root.Subcommands.Add(ProduceCommand.Build());
        root.Subcommands.Add(ConsumeCommand.Build());
        root.Subcommands.Add(GroupCommands.Build());
        root.Subcommands.Add(ClusterCommands.Build());
        root.Subcommands.Add(Commands.Bench.BenchCommands.Build());
        root.Subcommands.Add(Commands.Top.TopCommand.Build());
        root.Subcommands.Add(CompletionCommand.Build());
        return root;
    }

    private static int Start(string[] args)
    {
        if (args.Any(a => a is "-h" or "--help"))
        {
            Console.Write(NodeProperties.Help());
            return 0;
        }
        NodeConfig config;
        try
        {
            config = NodeConfigLoader.Load(args);
        }
        catch (NodeConfigException e)
        {
            foreach (string problem in e.Problems)
            {
                Console.Error.WriteLine($"eddy start: {problem}");
            }
            return CommandRunner.BadUsage;
        }
        return StartCommand.Run(config);
    }
}
