namespace Eddy.Host;

/// <summary>Command dispatch for the `eddy` executable.</summary>
internal static class Cli
{
    public static int Run(string[] args)
    {
        if (args.Length > 0 && (args[0] == "--version" || args[0] == "version"))
        {
            Console.WriteLine($"eddy {typeof(Cli).Assembly.GetName().Version?.ToString(3)}");
            return 0;
        }
        Console.Error.WriteLine("usage: eddy --version | eddy start [flags]");
        return 2;
    }
}
