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
        var entries = app.Functions.Select(function => new CatalogEntry(function, app.AppId, app.AppName, app.BundleId, app.WorkspaceId)).ToList();
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
}

/// <summary>A function and the bundle of its latest deployment (and its workspace, whose secrets it may use).</summary>
public sealed record CatalogEntry(DeployedFunctionSpec Function, Guid AppId, string AppName, string BundleId, Guid WorkspaceId = default)
{
    /// <summary>
    /// Which container runs this function's inputs: a plain function has containers of its own; the methods of a class
    /// share the class's containers (one instance, entered once).
    /// </summary>
    public string ContainerGroup => Function.ClassName is { } className ? $"{AppId:N}/{className}" : Function.FunctionId.ToString("N");
}
