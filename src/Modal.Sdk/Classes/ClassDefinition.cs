using System.Reflection;
using System.Runtime.ExceptionServices;

namespace Modal;

/// <summary>
/// A class registered with <see cref="App.Cls{T}"/>: its <see cref="MethodAttribute"/> methods (each a function
/// named <c>Class.Method</c>) and its lifecycle hooks. In a container there is one instance, created and entered once.
/// </summary>
internal sealed class ClassDefinition
{
    private readonly MethodInfo[] _enterHooks;
    private readonly MethodInfo[] _exitHooks;
    private readonly Lazy<Task<object>> _entered;
    private object? _instance;

    /// <param name="type">The class.</param>
    /// <param name="options">Options of its containers.</param>
    /// <param name="server">
    /// A server class (<see cref="App.WebServer{T}"/>): its [Enter] hooks start a server and it has no [Method]s, since
    /// its containers are reached over HTTP, not called.
    /// </param>
    public ClassDefinition(Type type, FunctionOptions options, bool server = false)
    {
        Type = type;
        Name = type.Name;
        Options = options;
        // Once per container; a failed [Enter] stays failed, so every input reports it (Modal fails the container).
        _entered = new Lazy<Task<object>>(CreateAndEnterAsync);
        if (type.IsGenericType || type.IsAbstract || type.GetConstructor(Type.EmptyTypes) is null)
        {
            throw new ArgumentException(
                $"Class '{type.FullName}' cannot run remotely: it needs to be a non-generic, non-abstract class with a public parameterless constructor.",
                nameof(type));
        }
        var methods = type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);
        _enterHooks = Hooks<EnterAttribute>(methods);
        _exitHooks = Hooks<ExitAttribute>(methods);
        RemoteMethods = methods.Where(m => m.IsDefined(typeof(MethodAttribute))).ToList();
        if (server)
        {
            if (RemoteMethods.Count > 0)
            {
                throw new ArgumentException(
                    $"Server class '{type.FullName}' has [Method]s: a web server's containers are reached over HTTP only; register methods to call with app.Cls<T>() on another class.",
                    nameof(type));
            }
            if (_enterHooks.Length == 0)
            {
                throw new ArgumentException($"Server class '{type.FullName}' has no [Enter] hook to start its server in.", nameof(type));
            }
            return;
        }
        if (RemoteMethods.Count == 0)
        {
            throw new ArgumentException($"Class '{type.FullName}' has no [Method]: mark the methods to call remotely with [Modal.Method].", nameof(type));
        }
        if (RemoteMethods.FirstOrDefault(m => !m.IsPublic) is { } hidden)
        {
            throw new ArgumentException($"[Method] '{type.Name}.{hidden.Name}' must be public.", nameof(type));
        }
        if (RemoteMethods.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1) is { } overloads)
        {
            throw new ArgumentException($"Class '{type.Name}' has several [Method] overloads named '{overloads.Key}'; a remote method's name must be unique.",
                nameof(type));
        }
    }

    public Type Type { get; }

    /// <summary>The class's name: the prefix of its functions' names and the container group runners key on.</summary>
    public string Name { get; }

    public FunctionOptions Options { get; }

    public IReadOnlyList<MethodInfo> RemoteMethods { get; }

    /// <summary>The function name of a remote method.</summary>
    public static string FunctionName(Type type, string method) => $"{type.Name}.{method}";

    /// <summary>The instance, after creating it and running the [Enter] hooks the first time.</summary>
    public Task<object> EnterAsync() => _entered.Value;

    private async Task<object> CreateAndEnterAsync()
    {
        _instance = Activator.CreateInstance(Type)!;
        foreach (var hook in _enterHooks)
        {
            await RunHookAsync(hook).ConfigureAwait(false);
        }
        return _instance;
    }

    /// <summary>Runs the [Exit] hooks of an entered instance (the container is stopping).</summary>
    public async Task ExitAsync()
    {
        if (!_entered.IsValueCreated || !_entered.Value.IsCompletedSuccessfully)
        {
            return;
        }
        foreach (var hook in _exitHooks)
        {
            await RunHookAsync(hook).ConfigureAwait(false);
        }
    }

    /// <summary>Calls a remote method on the (entered) instance.</summary>
    public object? Call(MethodInfo method, object?[] arguments) =>
        method.Invoke(_instance ?? throw new InvalidOperationException($"'{Name}' has not been entered."), arguments);

    private async Task RunHookAsync(MethodInfo hook)
    {
        object? returned;
        try
        {
            returned = hook.Invoke(_instance, null);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
        if (returned is Task task)
        {
            await task.ConfigureAwait(false);
        }
    }

    private static MethodInfo[] Hooks<TAttribute>(MethodInfo[] methods) where TAttribute : Attribute
    {
        var hooks = methods.Where(m => m.IsDefined(typeof(TAttribute))).OrderBy(m => m.MetadataToken).ToArray();
        if (hooks.FirstOrDefault(m => m.GetParameters().Length > 0 || (m.ReturnType != typeof(void) && m.ReturnType != typeof(Task))) is { } bad)
        {
            throw new ArgumentException(
                $"[{typeof(TAttribute).Name.Replace("Attribute", "", StringComparison.Ordinal)}] '{bad.DeclaringType?.Name}.{bad.Name}' must take no parameters and return void or Task.",
                nameof(methods));
        }
        return hooks;
    }
}
