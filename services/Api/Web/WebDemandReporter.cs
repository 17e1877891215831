using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Api.Hosting;
using Modal.Contracts.Web;

namespace Modal.Api.Web;

/// <summary>
/// Reports this replica's demand on each server function (<see cref="WebEndpointDemand"/>: requests in flight and
/// waiting) every <see cref="IngressOptions.DemandInterval"/> while it changes or is not zero, and at once when a
/// request starts waiting with no container up — that report is what scales a server from zero. Also expires the
/// containers of silent runners from the routing table.
/// </summary>
public sealed partial class WebDemandReporter(
    ServerRoutes routes, IBus bus, ApiInstance instance, IOptions<IngressOptions> options, TimeProvider clock, ILogger<WebDemandReporter> logger) : BackgroundService
{
    private readonly Dictionary<Guid, (int InFlight, int Waiting)> _reported = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.DemandInterval;
        var next = clock.GetUtcNow() + interval;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = next - clock.GetUtcNow();
            try
            {
                if (wait > TimeSpan.Zero)
                {
                    // Woken early by a request that found no container.
                    await Task.WhenAny(routes.DemandWake, Task.Delay(wait, clock, stoppingToken));
                    stoppingToken.ThrowIfCancellationRequested();
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (clock.GetUtcNow() >= next)
            {
                next = clock.GetUtcNow() + interval;
                routes.ExpireSilentRunners();
            }
            routes.RearmDemandWake();
            try
            {
                await ReportAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The broker is down: the next round reports again (a change not reported stays a change).
                LogReportFailed(logger, e);
            }
        }
    }

    private async Task ReportAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        foreach (var function in routes.Functions)
        {
            var demand = function.Demand();
            var last = _reported.GetValueOrDefault(function.FunctionId);
            if (demand == last && demand == (0, 0))
            {
                continue;
            }
            await bus.Publish(new WebEndpointDemand
            {
                IngressId = instance.Id, FunctionId = function.FunctionId, InFlight = demand.InFlight, Waiting = demand.Waiting, ReportedAt = now,
            }, cancellationToken);
            _reported[function.FunctionId] = demand;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report web endpoint demand")]
    private static partial void LogReportFailed(ILogger logger, Exception exception);
}
