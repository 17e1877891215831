using System.Reflection;
using System.Text.Json;
using Modal.Api.Contracts.Web;

namespace Modal;

/// <summary>
/// A function as the platform sees it: its name, options, parameters and result type, and the delegate that runs it.
/// Arguments travel as a JSON object keyed by parameter name, so any HTTP client can call a function.
/// </summary>
public sealed class FunctionDefinition
{
    internal FunctionDefinition(App app, string name, Delegate body, FunctionOptions options)
        : this(app, name, body.Method, body.DynamicInvoke, options, owner: null)
    {
    }

    internal FunctionDefinition(App app, string name, MethodInfo method, Func<object?[], object?> call, FunctionOptions options, ClassDefinition? owner)
    {
        App = app;
        Name = name;
        _call = call;
        Options = options;
        Class = owner;
        Parameters = method.GetParameters()
            .Select(p => new FunctionParameter(p.Name ?? $"arg{p.Position}", p.ParameterType))
            .ToList();
        var returnType = method.ReturnType;
        IsAsync = returnType == typeof(Task) || (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>));
        ResultType = IsAsync ? (returnType.IsGenericType ? returnType.GetGenericArguments()[0] : typeof(void)) : returnType;
    }

    private FunctionDefinition(
        App app, string name, FunctionParameter parameter, Type resultType, Func<IReadOnlyList<object?>, Task<IReadOnlyList<object?>>> batchCall,
        Batching batching, FunctionOptions options)
    {
        App = app;
        Name = name;
        Options = options;
        Parameters = [parameter];
        ResultType = resultType;
        IsAsync = true;
        Batching = batching;
        _batchCall = batchCall;
        // Run alone (LocalAsync), an input is a batch of one.
        _call = arguments => RunAloneAsync(batchCall, arguments[0]);
    }

    private static async Task<object?> RunAloneAsync(Func<IReadOnlyList<object?>, Task<IReadOnlyList<object?>>> batchCall, object? input) =>
        (await batchCall([input]).ConfigureAwait(false))[0];

    /// <summary>A batched function: one parameter of the element type on the wire; the body takes and returns lists.</summary>
    internal static FunctionDefinition Batched<TInput, TResult>(
        App app, string name, string parameterName, Func<IReadOnlyList<TInput>, Task<IReadOnlyList<TResult>>> body, Batching batching,
        FunctionOptions options)
    {
        return new FunctionDefinition(app, name, new FunctionParameter(parameterName, typeof(TInput)), typeof(TResult), async inputs =>
        {
            var results = await body(inputs.Select(input => (TInput)input!).ToList()).ConfigureAwait(false);
            if (results is null || results.Count != inputs.Count)
            {
                throw new InvalidOperationException(
                    $"Batched function '{name}' returned {results?.Count ?? 0} results for {inputs.Count} inputs; it must return one per input, in order.");
            }
            return results.Select(result => (object?)result).ToList();
        }, batching, options);
    }

    private readonly Func<object?[], object?> _call;
    private readonly Func<IReadOnlyList<object?>, Task<IReadOnlyList<object?>>>? _batchCall;

    /// <summary>How inputs are gathered into batches, for a batched function (<see cref="App.BatchedFunction{TInput, TResult}(string, Func{IReadOnlyList{TInput}, Task{IReadOnlyList{TResult}}}, Modal.Batching, FunctionOptions?)"/>); else null.</summary>
    public Batching? Batching { get; }

    /// <summary>Runs a batched function on already-bound inputs (one per element); one result per input.</summary>
    internal Task<IReadOnlyList<object?>> InvokeBatchAsync(IReadOnlyList<object?> inputs) =>
        (_batchCall ?? throw new InvalidOperationException($"'{Name}' is not a batched function."))(inputs);

    /// <summary>The app the function belongs to.</summary>
    public App App { get; }

    /// <summary>The function's name, unique within its app.</summary>
    public string Name { get; }

    /// <summary>Resources, timeout, retries and scaling of the function.</summary>
    public FunctionOptions Options { get; }

    /// <summary>The parameters, in declaration order.</summary>
    public IReadOnlyList<FunctionParameter> Parameters { get; }

    /// <summary>The result type (<see cref="Task{TResult}"/> unwrapped; <see cref="void"/> for none).</summary>
    public Type ResultType { get; }

    /// <summary>Whether the delegate returns a task.</summary>
    public bool IsAsync { get; }

    /// <summary>
    /// How the function is served over HTTP: a web function (<see cref="FunctionOptions.WebEndpoint"/>), an ASP.NET Core
    /// app (<see cref="App.AspNetApp"/>) or a server on a port (<see cref="App.WebServer(string, int, Func{CancellationToken, Task}, WebServerOptions?, FunctionOptions?)"/>);
    /// null when it is none of these.
    /// </summary>
    public WebEndpointManifest? Web => Serving is { } serving
        ? new WebEndpointManifest(serving.Kind, [], serving.Options.Label, serving.Options.RequiresProxyAuth, serving.Port,
            serving.Options.StartupTimeout.TotalSeconds)
        : Options.WebEndpoint is { } endpoint
            ? new WebEndpointManifest(WebEndpointKinds.Function, endpoint.UpperCaseMethods, endpoint.Label, endpoint.RequiresProxyAuth)
            : null;

    /// <summary>What a container of an app or server runs; null for other functions.</summary>
    internal WebServing? Serving { get; init; }

    /// <summary>The class whose method this is (<see cref="App.Cls{T}"/>), or null for a plain function.</summary>
    internal ClassDefinition? Class { get; }

    /// <summary>Runs the function in this process with already-typed arguments (a class's instance is created, and entered, first).</summary>
    internal async Task<object?> InvokeAsync(object?[] arguments)
    {
        if (Class is { } owner)
        {
            await owner.EnterAsync().ConfigureAwait(false);
        }
        object? returned;
        try
        {
            returned = _call(arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            // Surface the function's own exception, not reflection's wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }

        if (returned is not Task task)
        {
            return returned;
        }
        await task.ConfigureAwait(false);
        return ResultType == typeof(void) ? null : task.GetType().GetProperty(nameof(Task<object>.Result))!.GetValue(task);
    }

    /// <summary>
    /// Binds a JSON object of arguments (keyed by parameter name) to the parameters.
    /// A missing or unconvertible argument throws <see cref="ArgumentException"/> naming the parameter.
    /// </summary>
    internal object?[] BindArguments(JsonElement arguments, JsonSerializerOptions serializerOptions)
    {
        if (arguments.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
        {
            throw new ArgumentException($"Arguments of '{Name}' must be a JSON object keyed by parameter name.", nameof(arguments));
        }

        var bound = new object?[Parameters.Count];
        for (var i = 0; i < Parameters.Count; i++)
        {
            var parameter = Parameters[i];
            if (arguments.ValueKind != JsonValueKind.Object || !arguments.TryGetProperty(parameter.Name, out var value))
            {
                throw new ArgumentException($"Argument '{parameter.Name}' of '{Name}' is missing.", parameter.Name);
            }
            try
            {
                bound[i] = value.Deserialize(parameter.Type, serializerOptions);
            }
            catch (JsonException e)
            {
                throw new ArgumentException(
                    $"Argument '{parameter.Name}' of '{Name}' is not a valid {parameter.Type.Name}: {e.Message}", parameter.Name, e);
            }
        }
        return bound;
    }
}

/// <summary>One parameter of a function.</summary>
/// <param name="Name">The parameter's name: the key of its argument on the wire.</param>
/// <param name="Type">The parameter's .NET type.</param>
public sealed record FunctionParameter(string Name, Type Type);
