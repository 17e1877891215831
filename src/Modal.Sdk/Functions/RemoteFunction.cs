using System.Text.Json;
using Modal.Api.Contracts.Apps;

namespace Modal;

/// <summary>Reaches functions deployed by other programs, by name.</summary>
public static class Function
{
    /// <summary>A deployed function, as Modal's <c>Function.from_name(app, name)</c>. Nothing is checked until the first call.</summary>
    /// <param name="client">The connection to the platform.</param>
    /// <param name="appName">The deployed app's name.</param>
    /// <param name="functionName">The function's name.</param>
    public static RemoteFunction FromName(ModalClient client, string appName, string functionName)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(appName);
        ArgumentException.ThrowIfNullOrWhiteSpace(functionName);
        return new RemoteFunction(client, appName, functionName);
    }
}

/// <summary>
/// A deployed function known by name only. Arguments are an object whose properties (or a dictionary whose keys) are
/// the parameter names, e.g. <c>new { text = "hello" }</c>.
/// </summary>
public sealed class RemoteFunction
{
    private readonly ModalClient _client;

    internal RemoteFunction(ModalClient client, string appName, string functionName)
    {
        _client = client;
        AppName = appName;
        FunctionName = functionName;
    }

    /// <summary>The deployed app's name.</summary>
    public string AppName { get; }

    /// <summary>The function's name.</summary>
    public string FunctionName { get; }

    /// <summary>Runs the function and returns its result.</summary>
    /// <typeparam name="TResult">The function's result type.</typeparam>
    /// <param name="arguments">Arguments keyed by parameter name.</param>
    /// <param name="cancellationToken">Stops waiting (the call goes on).</param>
    public Task<TResult> RemoteAsync<TResult>(object arguments, CancellationToken cancellationToken = default) =>
        RemoteInvoker.CallAsync<TResult>(_client, AppName, FunctionName, JsonSerializer.SerializeToElement(arguments, App.SerializerOptions),
            cancellationToken);

    /// <summary>Starts the function and returns a handle at once.</summary>
    /// <typeparam name="TResult">The function's result type.</typeparam>
    /// <param name="arguments">Arguments keyed by parameter name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<FunctionCall<TResult>> SpawnAsync<TResult>(object arguments, CancellationToken cancellationToken = default) =>
        RemoteInvoker.SpawnAsync<TResult>(_client, AppName, FunctionName,
            JsonSerializer.SerializeToElement(arguments, App.SerializerOptions), cancellationToken);

    /// <summary>
    /// Changes the function's autoscaler bounds now, until the app is deployed again, as Modal's
    /// <c>Function.update_autoscaler</c>. An argument left null keeps its value.
    /// </summary>
    /// <param name="minContainers">Containers kept running even with no work.</param>
    /// <param name="maxContainers">Cap on containers.</param>
    /// <param name="bufferContainers">Extra idle containers kept while the function has work.</param>
    /// <param name="scaledownWindow">Idle time before a container stops (2 s to 20 min).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The function's stats with the new bounds.</returns>
    public Task<FunctionStats> UpdateAutoscalerAsync(
        int? minContainers = null, int? maxContainers = null, int? bufferContainers = null, TimeSpan? scaledownWindow = null,
        CancellationToken cancellationToken = default) =>
        _client.Apps.UpdateAutoscalerAsync(AppName, FunctionName,
            new UpdateAutoscalerRequest(minContainers, maxContainers, bufferContainers, scaledownWindow?.TotalSeconds), cancellationToken);

    /// <summary>The function's backlog, containers and running inputs now, as Modal's <c>Function.get_current_stats</c>.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<FunctionStats> GetCurrentStatsAsync(CancellationToken cancellationToken = default) =>
        _client.Apps.GetFunctionStatsAsync(AppName, FunctionName, cancellationToken);
}
