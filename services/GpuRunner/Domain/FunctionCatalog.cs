using System.Collections.Concurrent;
using Modal.Contracts.Apps;

namespace Modal.GpuRunner.Domain;

/// <summary>The deployed functions this runner knows, with the bundle each runs.</summary>
public sealed class FunctionCatalog
{
    private readonly ConcurrentDictionary<Guid, CatalogEntry> _functions = new();

    /// <summary>Records (or replaces) an app's functions with its latest deployment.</summary>
    public IReadOnlyList<CatalogEntry> Update(AppDeployed app)
    {
        var entries = app.Functions.Select(function => new CatalogEntry(function, app.WorkspaceId, app.AppId, app.AppName, app.BundleId)).ToList();
        foreach (var entry in entries)
        {
            _functions[entry.Function.FunctionId] = entry;
        }
        return entries;
    }

    /// <summary>Forgets a stopped app's functions: inputs still queued for them fail instead of running.</summary>
    public void Remove(IEnumerable<Guid> functionIds)
    {
        foreach (var functionId in functionIds)
        {
            _functions.TryRemove(functionId, out _);
        }
    }

    public CatalogEntry? Find(Guid functionId) => _functions.GetValueOrDefault(functionId);

    /// <summary>The functions served by the containers of <paramref name="containerGroup"/> (a class's methods, or one function).</summary>
    public IReadOnlyList<CatalogEntry> Members(string containerGroup) =>
        _functions.Values.Where(entry => entry.ContainerGroup == containerGroup).ToList();
}

/// <summary>A function and the bundle of its latest deployment.</summary>
public sealed record CatalogEntry(DeployedFunctionSpec Function, Guid WorkspaceId, Guid AppId, string AppName, string BundleId)
{
    /// <summary>
    /// Which container runs this function's inputs: a plain function has containers of its own; the methods of a class
    /// share the class's containers (one instance, entered once).
    /// </summary>
    public string ContainerGroup => Function.ClassName is { } className ? $"{AppId:N}/{className}" : Function.FunctionId.ToString("N");
}
