using Eddy.Config;

namespace Eddy.Host;

/// <summary>Command dispatch for the `eddy` executable.</summary>
internal static class Cli
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintUsage(Console.Out);
            return args.Length == 0 ? 2 : 0;
        }
        switch (args[0])
        {
            case "--version" or "version":
                Console.WriteLine($"eddy {Version}");
                return 0;
            case "start":
                if (args.Skip(1).Any(a => a is "-h" or "--help"))
                {
                    Console.Write(NodeProperties.Help());
                    return 0;
                }
                NodeConfig config;
                try
                {
                    config = NodeConfigLoader.Load(args[1..]);
                }
                catch (NodeConfigException e)
                {
                    foreach (string problem in e.Problems)
                    {
                        Console.Error.WriteLine($"eddy start: {problem}");
                    }
                    return 2;
                }
                return StartCommand.Run(config);
            default:
                Console.Error.WriteLine($"eddy: unknown command '{args[0]}'");
                PrintUsage(Console.Error);
                return 2;
        }
    }

    public static string Version => Eddy.Cluster.ClusterFeatures.SoftwareVersion;

    private static void PrintUsage(TextWriter to)
    {
        to.WriteLine("usage: eddy <command>");
        to.WriteLine("  start [flags]   run a node (eddy start --help lists the flags)");
        to.WriteLine("  --version       print the version");
    }
}
