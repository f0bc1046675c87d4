using System.CommandLine;
using Eddy.Client;

namespace Eddy.Host.Commands;

/// <summary>
/// Runs a command's body and turns what went wrong into the CLI's exit codes: 0 done, 1 failed (the cluster refused,
/// could not be reached, or the data was bad), 2 bad usage. A failure is one line on stderr, "eddy COMMAND: cause".
/// </summary>
internal static class CommandRunner
{
    public const int Done = 0, Failed = 1, BadUsage = 2;

    public static void Action(this Command command, Func<ParseResult, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parse, cancel) =>
        {
            string name = "eddy " + string.Join(' ', parse.CommandResult.Command.Parents().Reverse().Skip(1).Select(c => c.Name)
                .Append(parse.CommandResult.Command.Name)).Trim();
            try
            {
                return await body(parse, cancel);
            }
            catch (UsageException e)
            {
                await Console.Error.WriteLineAsync($"{name}: {e.Message}");
                return BadUsage;
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return Failed;
            }
            catch (Exception e) when (e is KafkaException or KafkaConnectionException or ArgumentException or InvalidDataException
                or AdminApiException or IOException or TimeoutException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"{name}: {e.Message}");
                return Failed;
            }
        });

    /// <summary>The same with a client to the cluster, closed afterwards.</summary>
    public static void ClientAction(this Command command, Func<ParseResult, KafkaClient, CancellationToken, Task<int>> body) =>
        command.Action(async (parse, cancel) =>
        {
            await using var client = CliOptions.Client(parse);
            return await body(parse, client, cancel);
        });

    private static IEnumerable<Command> Parents(this Command command)
    {
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null; parent = parent.Parents.OfType<Command>().FirstOrDefault())
        {
            yield return parent;
        }
    }
}
