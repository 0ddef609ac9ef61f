using System.CommandLine;
using System.Text.Json;
using Dlc.Cli.Output;

namespace Dlc.Cli.Commands;

/// <summary>`dlc check file.dl`: parse and shape-check, then print each model's layer table.</summary>
internal static class CheckCommand
{
    public static Command Create(CliContext context)
    {
        var file = CommonOptions.File();
        var json = CommonOptions.Json();
        var summary = new Option<bool>("--summary")
        {
            Description = "add each layer's forward FLOPs and activation memory per sample, and their totals",
        };
        var command = new Command("check", "parse and shape-check a .dl file and print a summary of its layers") { file, json, summary };
        command.SetAction(parse =>
        {
            context.Json = parse.GetValue(json);
            var compiled = CommonOptions.Compile(parse.GetValue(file)!);
            var costs = parse.GetValue(summary);
            if (context.Json)
            {
                context.Out.WriteLine(JsonSerializer.Serialize(Summaries.ToJson(compiled, costs), Summaries.CheckJsonOptions));
                return ExitCodes.Ok;
            }
            Summaries.WriteText(context.Out, compiled, costs);
            return ExitCodes.Ok;
        });
        return command;
    }
}
