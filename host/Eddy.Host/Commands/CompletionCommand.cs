using System.CommandLine;

namespace Eddy.Host.Commands;

/// <summary>`eddy completion bash|zsh`: a script that asks eddy itself for completions (System.CommandLine's
/// [suggest] directive), so they always match the binary's commands and options.</summary>
internal static class CompletionCommand
{
    public static Command Build()
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion", "Print a shell completion script: eval \"$(eddy completion bash)\"") { shell };
        command.SetAction(parse =>
        {
            Console.Write(parse.GetValue(shell) == "zsh" ? Zsh : Bash);
            return CommandRunner.Done;
        });
        return command;
    }

    private const string Bash = """
        _eddy_complete() {
          local IFS=$'\n'
          COMPREPLY=( $(eddy "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null) )
        }
        complete -o default -F _eddy_complete eddy

        """;

    private const string Zsh = """
        _eddy_complete() {
          local -a completions
          completions=("${(@f)$(eddy "[suggest:${#BUFFER}]" "$BUFFER" 2>/dev/null)}")
          compadd -- "${completions[@]}"
        }
        compdef _eddy_complete eddy

        """;
}
