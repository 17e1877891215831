using MassTransit;
using Microsoft.Extensions.Logging;

namespace Modal.ServiceDefaults;

/// <summary>
/// A request a service makes of another once, at its start (e.g. every deployed app, to catch up on what happened while
/// it was down): asked again every few seconds until answered, since the other service may not be up yet. What arrives
/// on the bus meanwhile is the caller's to pick up as usual.
/// </summary>
public static partial class StartupRequest
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);

    /// <summary>Sends <paramref name="request"/> until a <typeparamref name="TResponse"/> comes back; null when the service stops first.</summary>
    public static async Task<TResponse?> SendUntilAnsweredAsync<TRequest, TResponse>(
        IBus bus, TRequest request, ILogger logger, CancellationToken stoppingToken)
        where TRequest : class
        where TResponse : class
    {
        ArgumentNullException.ThrowIfNull(bus);
        // Request clients are scoped; a caller at start lives as long as the host, so it makes its own.
        var requests = bus.CreateRequestClient<TRequest>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var response = await requests.GetResponse<TResponse>(request, stoppingToken, RequestTimeout.After(s: 10));
                return response.Message;
            }
            catch (Exception e) when (e is RequestTimeoutException or RequestFaultException or MassTransitException && !stoppingToken.IsCancellationRequested)
            {
                LogUnanswered(logger, typeof(TRequest).Name, e.Message);
                await Task.Delay(RetryInterval, stoppingToken);
            }
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Request} was not answered yet ({Reason}); asking again")]
    private static partial void LogUnanswered(ILogger logger, string request, string reason);
}
