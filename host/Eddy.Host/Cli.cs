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
                if (args.Length > 1 && args[1] is "-h" or "--help")
                {
                    Console.WriteLine("usage: eddy start [flags]");
                    foreach (var (flag, description) in NodeArguments.Flags)
                    {
                        Console.WriteLine($"  {flag,-42} {description}");
                    }
                    return 0;
                }
                NodeConfig config;
                try
                {
                    config = NodeArguments.Parse(args[1..]);
                }
                catch (ArgumentException e)
                {
                    Console.Error.WriteLine($"eddy start: {e.Message}");
                    return 2;
                }
                return StartCommand.Run(config);
            default:
                Console.Error.WriteLine($"eddy: unknown command '{args[0]}'");
                PrintUsage(Console.Error);
                return 2;
        }
    }

    public static string Version => typeof(Cli).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    private static void PrintUsage(TextWriter to)
    {
        to.WriteLine("usage: eddy <command>");
        to.WriteLine("  start [flags]   run a node (eddy start --help lists the flags)");
        to.WriteLine("  --version       print the version");
    }
}
