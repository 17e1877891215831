using System.Text.Json;

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
}
