using System.Linq.Expressions;
using System.Reflection;

namespace Modal;

/// <summary>
/// A class whose <see cref="MethodAttribute"/> methods run remotely on a shared instance, as Modal's <c>@app.cls</c>.
/// Calls are written as ordinary, refactor-safe method calls on the instance:
/// <code>var text = await model.RemoteAsync(m => m.Generate(prompt));</code>
/// Arguments are evaluated here; the call runs in one of the class's containers, whose instance was created and
/// had its <see cref="EnterAttribute"/> hooks run before its first input.
/// </summary>
/// <typeparam name="T">The class.</typeparam>
public sealed class Cls<T> where T : class
{
    private readonly Func<ModalClient> _client;
    private readonly Func<string> _app;

    internal Cls(Func<string> app, Func<ModalClient> client)
    {
        _app = app;
        _client = client;
    }

    /// <summary>
    /// The app the class runs in: its id (<c>ap-…</c>) once the app is registered or known from the platform, else the
    /// name of the deployed app.
    /// </summary>
    public string AppName => _app();

    /// <summary>The class's name (its methods are the functions <c>Name.Method</c>).</summary>
    public string Name => typeof(T).Name;

    /// <summary>Runs a method remotely and returns its result, as Modal's <c>Model().generate.remote(...)</c>.</summary>
    /// <typeparam name="TResult">The method's result type.</typeparam>
    /// <param name="call">The call, e.g. <c>m =&gt; m.Generate(prompt)</c>.</param>
    /// <param name="cancellationToken">Stops waiting (the call goes on).</param>
    /// <exception cref="ArgumentException"><paramref name="call"/> is not a call of a [Method] on the lambda's parameter.</exception>
    /// <exception cref="RemoteFunctionException">The method threw.</exception>
    /// <exception cref="FunctionTimeoutException">The method ran past the class's timeout.</exception>
    public Task<TResult> RemoteAsync<TResult>(Expression<Func<T, TResult>> call, CancellationToken cancellationToken = default) =>
        CallCoreAsync<TResult>(call, cancellationToken);

    /// <summary>Runs an asynchronous method remotely and returns its result.</summary>
    /// <typeparam name="TResult">The method's result type.</typeparam>
    /// <param name="call">The call, e.g. <c>m =&gt; m.GenerateAsync(prompt)</c>.</param>
    /// <param name="cancellationToken">Stops waiting (the call goes on).</param>
    /// <exception cref="ArgumentException"><paramref name="call"/> is not a call of a [Method] on the lambda's parameter.</exception>
    /// <exception cref="RemoteFunctionException">The method threw.</exception>
    /// <exception cref="FunctionTimeoutException">The method ran past the class's timeout.</exception>
    public Task<TResult> RemoteAsync<TResult>(Expression<Func<T, Task<TResult>>> call, CancellationToken cancellationToken = default) =>
        CallCoreAsync<TResult>(call, cancellationToken);

    /// <summary>Starts a method remotely and returns a handle at once, as Modal's <c>.spawn()</c>.</summary>
    /// <typeparam name="TResult">The method's result type.</typeparam>
    /// <param name="call">The call, e.g. <c>m =&gt; m.Generate(prompt)</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<FunctionCall<TResult>> SpawnAsync<TResult>(Expression<Func<T, TResult>> call, CancellationToken cancellationToken = default) =>
        SpawnCoreAsync<TResult>(call, cancellationToken);

    /// <summary>Starts an asynchronous method remotely and returns a handle at once.</summary>
    /// <typeparam name="TResult">The method's result type.</typeparam>
    /// <param name="call">The call, e.g. <c>m =&gt; m.GenerateAsync(prompt)</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<FunctionCall<TResult>> SpawnAsync<TResult>(Expression<Func<T, Task<TResult>>> call, CancellationToken cancellationToken = default) =>
        SpawnCoreAsync<TResult>(call, cancellationToken);

    private Task<FunctionCall<TResult>> SpawnCoreAsync<TResult>(LambdaExpression call, CancellationToken cancellationToken)
    {
        var (function, arguments) = Bind(call);
        return RemoteInvoker.SpawnAsync<TResult>(_client(), _app(), function, arguments, cancellationToken);
    }

    private Task<TResult> CallCoreAsync<TResult>(LambdaExpression call, CancellationToken cancellationToken)
    {
        var (function, arguments) = Bind(call);
        return RemoteInvoker.CallAsync<TResult>(_client(), _app(), function, arguments, cancellationToken);
    }

    private static (string Function, System.Text.Json.JsonElement Arguments) Bind(LambdaExpression call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var (method, values) = Parse(call);
        var parameters = method.GetParameters().Select(p => new FunctionParameter(p.Name ?? $"arg{p.Position}", p.ParameterType)).ToList();
        return (ClassDefinition.FunctionName(typeof(T), method.Name), RemoteInvoker.ArgumentsOf(parameters, values));
    }

    /// <summary>The method a call expression names and its argument values, evaluated here.</summary>
    internal static (MethodInfo Method, object?[] Values) Parse(LambdaExpression call)
    {
        if (call.Body is not MethodCallExpression { Object: ParameterExpression target } invocation || target != call.Parameters[0])
        {
            throw new ArgumentException($"Call one method of the instance, e.g. x => x.Generate(prompt); '{call}' is not such a call.", nameof(call));
        }
        if (!invocation.Method.IsDefined(typeof(MethodAttribute)))
        {
            throw new ArgumentException($"'{typeof(T).Name}.{invocation.Method.Name}' is not marked [Method], so it cannot be called remotely.", nameof(call));
        }
        try
        {
            return (invocation.Method, invocation.Arguments.Select(Evaluate).ToArray());
        }
        catch (InvalidOperationException e)
        {
            // An argument that uses the instance itself (x => x.Generate(x.Prompt)) has no value on this side.
            throw new ArgumentException($"The arguments of '{call}' must not use the instance: they are evaluated before the call is sent.", nameof(call), e);
        }
    }

    private static object? Evaluate(Expression argument) => argument switch
    {
        ConstantExpression constant => constant.Value,
        // Captured locals: read the closure's field instead of compiling a delegate per call.
        MemberExpression { Expression: ConstantExpression closure, Member: FieldInfo field } => field.GetValue(closure.Value),
        _ => Expression.Lambda(argument).Compile(preferInterpretation: true).DynamicInvoke(),
    };
}

/// <summary>Reaches classes deployed by other programs, by name.</summary>
public static class Cls
{
    /// <summary>A deployed class, as Modal's <c>Cls.from_name(app, name)</c>; the class's name is <typeparamref name="T"/>'s.</summary>
    /// <typeparam name="T">The class (the same type the deployed app registered).</typeparam>
    /// <param name="client">The connection to the platform.</param>
    /// <param name="appName">The deployed app's name.</param>
    public static Cls<T> FromName<T>(ModalClient client, string appName) where T : class
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(appName);
        return new Cls<T>(() => appName, () => client);
    }
}
