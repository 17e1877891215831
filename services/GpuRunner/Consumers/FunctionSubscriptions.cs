using MassTransit;
using Modal.Contracts.Apps;
using Modal.Contracts.Calls;
using Modal.GpuRunner.Containers;
using Modal.GpuRunner.Domain;

namespace Modal.GpuRunner.Consumers;

/// <summary>
/// Consumes a function's queue only while this runner has ready containers for it, with as many inputs in flight as
/// their slots add up to: inputs go only to runners that have a container, and the broker spreads them over runners as
/// competing consumers. (MassTransit allows one receive endpoint per queue on a bus, so a runner's containers of a
/// function share one endpoint, reconnected with the new total when a container comes or goes.) Inputs of a crashed
/// container are redelivered a few times, then fail the call.
/// </summary>
public sealed partial class FunctionSubscriptions : IDisposable
{
    private readonly IReceiveEndpointConnector _connector;
    private readonly FunctionCatalog _catalog;
    private readonly ContainerPool _pool;
    private readonly InputSlots _slots;
    private readonly ILogger<FunctionSubscriptions> _logger;
    private readonly CancellationToken _stopping;
    private readonly Dictionary<Guid, Subscription> _subscriptions = [];

    // Functions of stopped apps (with their container group): their queues stay consumed, one input at a time, so
    // inputs still queued fail as Modal.AppStopped instead of waiting for a container that will never start. After
    // FunctionQueues.DrainAfterStop they are let go (the Scheduler then deletes the queues).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, string> _stopped = new();
    private readonly SemaphoreSlim _reconciling = new(1, 1);

    public FunctionSubscriptions(
        IReceiveEndpointConnector connector, FunctionCatalog catalog, ContainerPool pool, InputSlots slots,
        IHostApplicationLifetime lifetime, ILogger<FunctionSubscriptions> logger)
    {
        _stopping = lifetime.ApplicationStopping;
        _connector = connector;
        _catalog = catalog;
        _pool = pool;
        _slots = slots;
        _logger = logger;
        slots.CapacityChanged += group => _ = ReconcileQuietlyAsync(group);
    }

    private async Task ReconcileQuietlyAsync(string group)
    {
        try
        {
            await ReconcileAsync(group);
        }
        catch (ObjectDisposedException)
        {
            // The runner is stopping (its containers stop after the subscriptions are gone): nothing is left to adjust.
        }
        catch (Exception e)
        {
            // The next change of the group reconciles again; inputs meanwhile wait in the queue for any runner's container.
            LogReconcileFailed(_logger, group, e);
        }
    }

    /// <summary>A deployment: its functions are known here from now on; containers still running an older bundle stop.</summary>
    public async Task AddAsync(AppDeployed app, CancellationToken cancellationToken)
    {
        var entries = _catalog.Update(app);
        foreach (var entry in entries.Where(e => _stopped.TryRemove(e.Function.FunctionId, out _)).Select(e => e.ContainerGroup).Distinct())
        {
            await ReconcileAsync(entry); // Redeployed: no more draining; consumed again once containers are ready.
        }
        await _pool.StopOutdatedAsync(app.AppId, app.BundleId);
    }

    /// <summary>An app stopped: forget its functions and stop its containers (their [Exit] hooks run).</summary>
    public async Task RemoveAsync(AppStopped app)
    {
        foreach (var functionId in app.FunctionIds)
        {
            if (_catalog.Find(functionId) is { } entry)
            {
                _stopped[functionId] = entry.ContainerGroup;
            }
        }
        _catalog.Remove(app.FunctionIds);
        await _pool.StopAppAsync(app.AppId);
        var groups = _stopped.Where(pair => app.FunctionIds.Contains(pair.Key)).Select(pair => pair.Value).Distinct().ToList();
        foreach (var group in groups)
        {
            await ReconcileAsync(group);
        }
        _ = LetGoAfterDrainAsync(app.FunctionIds, groups);
        LogStopped(_logger, app.AppName);
    }

    private async Task LetGoAfterDrainAsync(IReadOnlyList<Guid> functionIds, IReadOnlyList<string> groups)
    {
        await Task.Delay(FunctionQueues.DrainAfterStop);
        foreach (var functionId in functionIds)
        {
            _stopped.TryRemove(functionId, out _);
        }
        foreach (var group in groups)
        {
            await ReconcileQuietlyAsync(group); // No longer listed anywhere: its subscription goes.
        }
    }

    /// <summary>Connects, resizes or disconnects the queues of <paramref name="group"/>'s functions to its containers' slots now.</summary>
    public async Task ReconcileAsync(string group)
    {
        await _reconciling.WaitAsync();
        try
        {
            var slots = _slots.SlotsOf(group);
            var functions = _catalog.Members(group).Select(entry => entry.Function.FunctionId)
                .Union(_subscriptions.Where(pair => pair.Value.Group == group).Select(pair => pair.Key))
                .Union(_stopped.Where(pair => pair.Value == group).Select(pair => pair.Key))
                .ToList();
            foreach (var functionId in functions)
            {
                var wanted = _catalog.Find(functionId) is not null ? slots : _stopped.ContainsKey(functionId) ? 1 : 0;
                if (_subscriptions.TryGetValue(functionId, out var current))
                {
                    if (current.Slots == wanted)
                    {
                        continue;
                    }
                    // The old endpoint stops taking inputs at once and finishes those it holds in the background;
                    // its name is free again as soon as the stop begins.
                    _subscriptions.Remove(functionId);
                    _ = current.Handle.StopAsync(CancellationToken.None);
                }
                // A stopping runner connects nothing: its bus stops (or has stopped) and its containers' slots go one by
                // one, and an endpoint connected now would outlive the bus, consuming inputs with a disposed provider.
                if (wanted == 0 || _stopping.IsCancellationRequested)
                {
                    continue;
                }
                var queue = FunctionQueues.NameFor(functionId);
                var handle = _connector.ConnectReceiveEndpoint(queue, (context, endpoint) =>
                    FunctionQueueEndpoint.Configure(endpoint, context, wanted));
                _subscriptions[functionId] = new Subscription(group, handle, wanted);
                await handle.Ready;
                LogSubscribed(_logger, queue, wanted);
            }
        }
        finally
        {
            _reconciling.Release();
        }
    }

    public void Dispose() => _reconciling.Dispose();

    private sealed record Subscription(string Group, HostReceiveEndpointHandle Handle, int Slots);

    [LoggerMessage(Level = LogLevel.Information, Message = "App {App} stopped; its containers are stopped")]
    private static partial void LogStopped(ILogger logger, string app);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not adjust the queue subscriptions of container group {Group}")]
    private static partial void LogReconcileFailed(ILogger logger, string group, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming {Queue} with {Slots} inputs in flight")]
    private static partial void LogSubscribed(ILogger logger, string queue, int slots);
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
        endpoint.UseMessageRetry(retry => retry.Interval(RetryPolicy.CrashRedeliveries, TimeSpan.FromMilliseconds(200)));
        endpoint.ConfigureConsumer<RunFunctionConsumer>(context);
        endpoint.ConfigureConsumer<RunMapInputsConsumer>(context);
    }
}

/// <summary>A new deployment: know its functions (and run its new bundle from now on).</summary>
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
    protected RunnerControlDefinition(Microsoft.Extensions.Options.IOptions<GpuRunnerOptions> options, string topic, int concurrentMessages = 1)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Temporary: auto-deleted and not durable. Set on the endpoint definition, which consumers sharing the
        // endpoint share, rather than on the endpoint by each consumer.
        Endpoint(endpoint =>
        {
            endpoint.Name = $"runner-{options.Value.RunnerId}-{topic}";
            endpoint.Temporary = true;
            endpoint.ConcurrentMessageLimit = concurrentMessages;
        });
    }
}
