using System.Collections.Concurrent;
using Modal.Contracts.Apps;

namespace Modal.GpuRunner.Domain;

/// <summary>The deployed functions this runner knows, with the bundle each runs.</summary>
public sealed class FunctionCatalog
{
    private readonly ConcurrentDictionary<Guid, CatalogEntry> _functions = new();

    /// <summary>Records an app's functions; returns those this runner did not know yet (their queues need consuming).</summary>
    public IReadOnlyList<CatalogEntry> Update(AppDeployed app)
    {
        var added = new List<CatalogEntry>();
        foreach (var function in app.Functions)
        {
            var entry = new CatalogEntry(function, app.AppName, app.BundleId);
            if (_functions.TryAdd(function.FunctionId, entry))
            {
                added.Add(entry);
            }
            else
            {
                _functions[function.FunctionId] = entry;
            }
        }
        return added;
    }

    public CatalogEntry? Find(Guid functionId) => _functions.GetValueOrDefault(functionId);
}

/// <summary>A function and the bundle of its latest deployment.</summary>
public sealed record CatalogEntry(DeployedFunctionSpec Function, string AppName, string BundleId);
