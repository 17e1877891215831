using Modal.Api.Contracts.Apps;

namespace Modal;

/// <summary>What every typed function handle has, whatever its parameters: its definition and its autoscaler.</summary>
public abstract class DefinedFunction
{
    private protected DefinedFunction(FunctionDefinition definition) => Definition = definition;

    /// <summary>Name, options, parameters and result type of the function.</summary>
    public FunctionDefinition Definition { get; }

    /// <inheritdoc cref="RemoteFunction.UpdateAutoscalerAsync"/>
    public Task<FunctionStats> UpdateAutoscalerAsync(
        int? minContainers = null, int? maxContainers = null, int? bufferContainers = null, TimeSpan? scaledownWindow = null,
        CancellationToken cancellationToken = default) =>
        FunctionMaps.Deployed(Definition).UpdateAutoscalerAsync(minContainers, maxContainers, bufferContainers, scaledownWindow, cancellationToken);

    /// <inheritdoc cref="RemoteFunction.GetCurrentStatsAsync"/>
    public Task<FunctionStats> GetCurrentStatsAsync(CancellationToken cancellationToken = default) =>
        FunctionMaps.Deployed(Definition).GetCurrentStatsAsync(cancellationToken);
}

/// <summary>A defined function without parameters, returning <typeparamref name="TResult"/>.</summary>
/// <typeparam name="TResult">The result type.</typeparam>
public sealed partial class Function<TResult> : DefinedFunction
{
    internal Function(FunctionDefinition definition)
        : base(definition)
    {
    }

    /// <summary>Runs the function in this process, as Modal's <c>f.local()</c>.</summary>
    public async Task<TResult> LocalAsync() => (TResult)(await Definition.InvokeAsync([]).ConfigureAwait(false))!;

    /// <summary>Runs the function on the platform and returns its result, as Modal's <c>f.remote()</c>.</summary>
    /// <param name="cancellationToken">Stops waiting (the call goes on).</param>
    /// <exception cref="RemoteFunctionException">The function threw.</exception>
    /// <exception cref="FunctionTimeoutException">The function ran past its timeout.</exception>
    public Task<TResult> RemoteAsync(CancellationToken cancellationToken = default) =>
        RemoteInvoker.CallAsync<TResult>(Definition.App.Client, Definition.App.Reference, Definition.Name,
            RemoteInvoker.ArgumentsOf(Definition, []), cancellationToken);

    /// <summary>Starts the function on the platform and returns a handle at once, as Modal's <c>f.spawn()</c>.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<FunctionCall<TResult>> SpawnAsync(CancellationToken cancellationToken = default) =>
        RemoteInvoker.SpawnAsync<TResult>(Definition.App.Client, Definition.App.Reference, Definition.Name,
            RemoteInvoker.ArgumentsOf(Definition, []), cancellationToken);
}

/// <summary>A defined function of one parameter.</summary>
/// <typeparam name="T1">The parameter type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
public sealed partial class Function<T1, TResult> : DefinedFunction
{
    internal Function(FunctionDefinition definition)
        : base(definition)
    {
    }

    /// <summary>Runs the function in this process, as Modal's <c>f.local()</c>.</summary>
    /// <param name="arg1">The argument.</param>
    public async Task<TResult> LocalAsync(T1 arg1) => (TResult)(await Definition.InvokeAsync([arg1]).ConfigureAwait(false))!;

    /// <summary>Runs the function on the platform and returns its result, as Modal's <c>f.remote()</c>.</summary>
    /// <param name="arg1">The argument.</param>
    /// <param name="cancellationToken">Stops waiting (the call goes on).</param>
    /// <exception cref="RemoteFunctionException">The function threw.</exception>
    /// <exception cref="FunctionTimeoutException">The function ran past its timeout.</exception>
    public Task<TResult> RemoteAsync(T1 arg1, CancellationToken cancellationToken = default) =>
        RemoteInvoker.CallAsync<TResult>(Definition.App.Client, Definition.App.Reference, Definition.Name,
            RemoteInvoker.ArgumentsOf(Definition, [arg1]), cancellationToken);

    /// <summary>Starts the function on the platform and returns a handle at once, as Modal's <c>f.spawn()</c>.</summary>
    /// <param name="arg1">The argument.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<FunctionCall<TResult>> SpawnAsync(T1 arg1, CancellationToken cancellationToken = default) =>
        RemoteInvoker.SpawnAsync<TResult>(Definition.App.Client, Definition.App.Reference, Definition.Name,
            RemoteInvoker.ArgumentsOf(Definition, [arg1]), cancellationToken);
}

/// <summary>A defined function of two parameters.</summary>
/// <typeparam name="T1">The first parameter type.</typeparam>
/// <typeparam name="T2">The second parameter type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
public sealed partial class Function<T1, T2, TResult> : DefinedFunction
{
    internal Function(FunctionDefinition definition)
        : base(definition)
    {
    }

    /// <summary>Runs the function in this process, as Modal's <c>f.local()</c>.</summary>
    /// <param name="arg1">The first argument.</param>
    /// <param name="arg2">The second argument.</param>
    public async Task<TResult> LocalAsync(T1 arg1, T2 arg2) =>
        (TResult)(await Definition.InvokeAsync([arg1, arg2]).ConfigureAwait(false))!;

    /// <summary>Runs the function on the platform and returns its result, as Modal's <c>f.remote()</c>.</summary>
    /// <param name="arg1">The first argument.</param>
    /// <param name="arg2">The second argument.</param>
    /// <param name="cancellationToken">Stops waiting (the call goes on).</param>
    /// <exception cref="RemoteFunctionException">The function threw.</exception>
    /// <exception cref="FunctionTimeoutException">The function ran past its timeout.</exception>
    public Task<TResult> RemoteAsync(T1 arg1, T2 arg2, CancellationToken cancellationToken = default) =>
        RemoteInvoker.CallAsync<TResult>(Definition.App.Client, Definition.App.Reference, Definition.Name,
            RemoteInvoker.ArgumentsOf(Definition, [arg1, arg2]), cancellationToken);

    /// <summary>Starts the function on the platform and returns a handle at once, as Modal's <c>f.spawn()</c>.</summary>
    /// <param name="arg1">The first argument.</param>
    /// <param name="arg2">The second argument.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<FunctionCall<TResult>> SpawnAsync(T1 arg1, T2 arg2, CancellationToken cancellationToken = default) =>
        RemoteInvoker.SpawnAsync<TResult>(Definition.App.Client, Definition.App.Reference, Definition.Name,
            RemoteInvoker.ArgumentsOf(Definition, [arg1, arg2]), cancellationToken);
}
