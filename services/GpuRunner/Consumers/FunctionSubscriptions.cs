using MassTransit;
using Modal.Contracts.Apps;
using Modal.Contracts.Calls;
using Modal.GpuRunner.Containers;
using Modal.GpuRunner.Domain;

namespace Modal.GpuRunner.Consumers;

/// <summary>
/// Consumes the queue of every function this runner knows, with as many inputs in flight as the function's
/// containers run at once. Inputs of a crashed container are redelivered a few times, then fail the call.
/// </summary>
public sealed partial class FunctionSubscriptions(
    IReceiveEndpointConnector connector, FunctionCatalog catalog, ContainerPool pool, ILogger<FunctionSubscriptions> logger)
{
    // A function's queue stays connected after its app stops (a later deploy reuses it; inputs still queued then fail).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, bool> _connected = new();

    public async Task AddAsync(AppDeployed app, CancellationToken cancellationToken)
    {
        foreach (var entry in catalog.Update(app))
        {
            var function = entry.Function;
            if (!_connected.TryAdd(function.FunctionId, true))
            {
                continue;
            }
            var queue = FunctionQueues.NameFor(function.FunctionId);
            var handle = connector.ConnectReceiveEndpoint(queue, (context, endpoint) =>
                FunctionQueueEndpoint.Configure(endpoint, context, function.MaxConcurrentInputs));
            await handle.Ready.WaitAsync(cancellationToken);
            LogSubscribed(logger, app.AppName, function.Name, queue);
        }
    }

    /// <summary>An app stopped: forget its functions and stop its containers (their [Exit] hooks run).</summary>
    public async Task RemoveAsync(AppStopped app)
    {
        catalog.Remove(app.FunctionIds);
        await pool.StopAppAsync(app.AppId);
        LogStopped(logger, app.AppName);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "App {App} stopped; its containers are stopped")]
    private static partial void LogStopped(ILogger logger, string app);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming {App}.{Function} from {Queue}")]
    private static partial void LogSubscribed(ILogger logger, string app, string function, string queue);
}

/// <summary>
/// How a runner consumes a function's queue: every consumer of the function's input messages, with as many messages
/// in flight as <c>concurrentInputs</c>. The one place that lists them, whoever connects the endpoint.
/// </summary>
public static class FunctionQueueEndpoint
{
    public static void Configure(IReceiveEndpointConfigurator endpoint, IRegistrationContext context, int concurrentInputs)
    {
        endpoint.PrefetchCount = (ushort)Math.Clamp(concurrentInputs, 1, ushort.MaxValue);
        endpoint.ConcurrentMessageLimit = concurrentInputs;
        endpoint.UseMessageRetry(retry => retry.Interval(RunFunctionConsumer.CrashRedeliveries, TimeSpan.FromMilliseconds(200)));
        endpoint.ConfigureConsumer<RunFunctionConsumer>(context);
        endpoint.ConfigureConsumer<RunMapInputsConsumer>(context);
    }
}

/// <summary>A new deployment: consume its functions' queues (and run its new bundle from now on).</summary>
public sealed class AppDeployedConsumer(FunctionSubscriptions subscriptions, FunctionCatalog catalog, ContainerCredentials credentials)
    : IConsumer<AppDeployed>
{
    public async Task Consume(ConsumeContext<AppDeployed> context)
    {
        await subscriptions.AddAsync(context.Message, context.CancellationToken);
        // Containers are likely to follow a deploy: their token is fetched now rather than by the first start.
        if (context.Message.Functions.Count > 0 && catalog.Find(context.Message.Functions[0].FunctionId) is { } entry)
        {
            credentials.Prefetch(entry);
        }
    }
}

/// <summary>An app stopped: its containers stop here too.</summary>
public sealed class AppStoppedConsumer(FunctionSubscriptions subscriptions) : IConsumer<AppStopped>
{
    public Task Consume(ConsumeContext<AppStopped> context) => subscriptions.RemoveAsync(context.Message);
}

public sealed class AppDeployedConsumerDefinition(Microsoft.Extensions.Options.IOptions<GpuRunnerOptions> options)
    : RunnerControlDefinition<AppDeployedConsumer>(options, "apps");

public sealed class AppStoppedConsumerDefinition(Microsoft.Extensions.Options.IOptions<GpuRunnerOptions> options)
    : RunnerControlDefinition<AppStoppedConsumer>(options, "apps");

/// <summary>
/// Every runner needs every app and call-control event: queues of its own for them (<c>runner-{id}-{topic}</c>), gone
/// with the runner (it resyncs deployments at start). One message at a time keeps a deploy and a stop of an app in order.
/// </summary>
public abstract class RunnerControlDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    protected RunnerControlDefinition(Microsoft.Extensions.Options.IOptions<GpuRunnerOptions> options, string topic)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Temporary: auto-deleted and not durable. Set on the endpoint definition, which consumers sharing the
        // endpoint share, rather than on the endpoint by each consumer.
        Endpoint(endpoint =>
        {
            endpoint.Name = $"runner-{options.Value.RunnerId}-{topic}";
            endpoint.Temporary = true;
            endpoint.ConcurrentMessageLimit = 1;
        });
    }
}

/// <summary>At start, asks the Api for every deployed app, so a runner that was down consumes their queues too.</summary>
public sealed partial class DeployedAppsSync(
    IBus bus, FunctionSubscriptions subscriptions, Microsoft.Extensions.Options.IOptions<GpuRunnerOptions> options,
    ILogger<DeployedAppsSync> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Request clients are scoped; this service lives as long as the host, so it makes its own.
        var requests = bus.CreateRequestClient<ListDeployedApps>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var response = await requests.GetResponse<DeployedApps>(
                    new ListDeployedApps { RunnerId = options.Value.RunnerId }, stoppingToken, RequestTimeout.After(s: 10));
                foreach (var app in response.Message.Apps)
                {
                    await subscriptions.AddAsync(app, stoppingToken);
                }
                LogSynced(logger, response.Message.Apps.Count);
                return;
            }
            catch (Exception e) when (e is RequestTimeoutException or RequestFaultException or MassTransitException && !stoppingToken.IsCancellationRequested)
            {
                // The Api may not be up yet; deployments arriving meanwhile are still picked up by AppDeployedConsumer.
                LogSyncRetry(logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming the functions of {AppCount} deployed apps")]
    private static partial void LogSynced(ILogger logger, int appCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not list deployed apps yet ({Reason}); retrying")]
    private static partial void LogSyncRetry(ILogger logger, string reason);
}
