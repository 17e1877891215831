using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary>Settings of <c>modal function stats</c>.</summary>
public sealed class FunctionStatsSettings : ServerSettings
{
    [CommandArgument(0, "<APP>")]
    [Description("The app's name (or id).")]
    public string App { get; init; } = "";

    [CommandArgument(1, "<FUNCTION>")]
    [Description("The function's name (Class.Method for a class's method).")]
    public string Function { get; init; } = "";
}

/// <summary>
/// <c>modal function stats APP FUNCTION</c>: the function's backlog, running inputs and containers as the Scheduler sees
/// them (<c>Function.GetCurrentStatsAsync</c>), and whether its inputs wait for a GPU or fail for want of one.
/// </summary>
public sealed class FunctionStatsCommand : AsyncCommand<FunctionStatsSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, FunctionStatsSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        var stats = await client.Apps.GetFunctionStatsAsync(settings.App, settings.Function, cancellationToken);
        var max = stats.MaxContainers?.ToString(CultureInfo.InvariantCulture) ?? "none";
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
            "[bold]{0}[/]: {1} queued, {2} running, {3} containers (min {4}, max {5}, buffer {6}, scaledown {7} s)",
            Markup.Escape(settings.Function), stats.Backlog, stats.RunningInputs, stats.Containers, stats.MinContainers, max,
            stats.BufferContainers, stats.ScaledownWindowSeconds);
        if (stats.Gpu is { } gpu)
        {
            AnsiConsole.MarkupLine($"GPU: {Markup.Escape(gpu)}");
        }
        if (stats.GpuUnavailable is { } unavailable)
        {
            AnsiConsole.MarkupLine($"[red]Calls fail:[/] {Markup.Escape(unavailable)}");
        }
        else if (stats.InputsWaitingForGpu > 0)
        {
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
                "[yellow]{0} input(s) waiting for a GPU[/]: every GPU of its type is taken; they run as one comes free.", stats.InputsWaitingForGpu);
        }
        return 0;
    }
}
