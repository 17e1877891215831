using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Contracts.Containers;
using Modal.GpuRunner.Containers;
using Modal.GpuRunner.Domain;

namespace Modal.GpuRunner.Consumers;

/// <summary>
/// The Scheduler placed a container here: start it on the GPUs it chose. A GPU already held here is refused (and
/// reported), never shared: the Scheduler frees its placement and places the container again.
/// </summary>
public sealed partial class StartContainerConsumer(
    ContainerPool pool, FunctionCatalog catalog, IOptions<GpuRunnerOptions> options, TimeProvider clock, ILogger<StartContainerConsumer> logger)
    : IConsumer<StartContainer>
{
    // The Scheduler and this runner hear of a deployment on separate queues: the command may arrive first.
    private static readonly TimeSpan DeploymentWait = TimeSpan.FromSeconds(10);

    public async Task Consume(ConsumeContext<StartContainer> context)
    {
        var command = context.Message;
        var entry = catalog.Find(command.FunctionId);
        for (var waited = TimeSpan.Zero; entry is null && waited < DeploymentWait; waited += TimeSpan.FromMilliseconds(100))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), clock, context.CancellationToken);
            entry = catalog.Find(command.FunctionId);
        }
        if (entry is null)
        {
            await RefuseAsync(context, "UnknownFunction", $"Runner {options.Value.RunnerId} does not know function {command.FunctionId}.");
            return;
        }
        try
        {
            await pool.StartAsync(command, entry);
        }
        catch (GpusTakenException taken)
        {
            LogRefused(logger, command.ContainerId, taken.Message);
            await RefuseAsync(context, "GpusTaken", taken.Message);
        }
        catch (AppStoppedException stopped)
        {
            LogRefused(logger, command.ContainerId, stopped.Message);
            await RefuseAsync(context, "AppStopped", stopped.Message);
        }
    }

    private Task RefuseAsync(ConsumeContext<StartContainer> context, string reason, string message) => context.Publish(new ContainerStartFailed
    {
        ContainerId = context.Message.ContainerId, RunnerId = options.Value.RunnerId, FunctionId = context.Message.FunctionId, Reason = reason,
        Message = message, FailedAt = clock.GetUtcNow(),
    });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container {ContainerId} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string containerId, string reason);
}

/// <summary>The Scheduler scaled a container down: it takes no new input and stops once its inputs finish.</summary>
public sealed class StopContainerConsumer(ContainerPool pool) : IConsumer<StopContainer>
{
    public Task Consume(ConsumeContext<StopContainer> context)
    {
        // Not awaited: draining may take as long as the inputs it runs; the stop is announced with ContainerStopped.
        _ = pool.StopAsync(context.Message.ContainerId, context.Message.Reason);
        return Task.CompletedTask;
    }
}

/// <summary>Container commands share the runner's own temporary queue; starts run side by side (each takes seconds).</summary>
public sealed class StartContainerConsumerDefinition(IOptions<GpuRunnerOptions> options)
    : RunnerControlDefinition<StartContainerConsumer>(options, "containers", concurrentMessages: 32);

public sealed class StopContainerConsumerDefinition(IOptions<GpuRunnerOptions> options)
    : RunnerControlDefinition<StopContainerConsumer>(options, "containers", concurrentMessages: 32);
