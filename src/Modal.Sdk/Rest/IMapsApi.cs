using Modal.Api.Contracts.Maps;
using Refit;

namespace Modal.Rest;

/// <summary>Maps: many inputs of one function, sent in pages and answered in pages (<c>/v1/maps</c>).</summary>
public interface IMapsApi
{
    /// <summary>Starts a map of a deployed function.</summary>
    [Post("/v1/apps/{app}/functions/{function}/maps")]
    Task<MapCreated> CreateAsync(string app, string function, CancellationToken cancellationToken = default);

    /// <summary>Queues a page of inputs (at most <see cref="MapCreated.MaxInputsPerRequest"/>).</summary>
    [Post("/v1/maps/{id}/inputs")]
    Task<MapInputsQueued> PutInputsAsync(string id, [Body] MapInputsRequest request, CancellationToken cancellationToken = default);

    /// <summary>Says how many inputs the map has in all.</summary>
    [Post("/v1/maps/{id}/close")]
    Task<MapInfo> CloseAsync(string id, [Body] CloseMapRequest request, CancellationToken cancellationToken = default);

    /// <summary>Outputs after cursor <paramref name="after"/>, waiting up to <paramref name="timeout"/> seconds (at most 50) for one.</summary>
    [Get("/v1/maps/{id}/outputs")]
    Task<MapOutputs> GetOutputsAsync(string id, [Query] string after = "0", [Query] double timeout = 0, CancellationToken cancellationToken = default);

    /// <summary>The map's progress.</summary>
    [Get("/v1/maps/{id}")]
    Task<MapInfo> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Cancels the map: inputs not yet run are skipped.</summary>
    [Delete("/v1/maps/{id}")]
    Task<MapInfo> CancelAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The app's recent maps, newest first.</summary>
    [Get("/v1/apps/{app}/maps")]
    Task<AppMaps> ListForAppAsync(string app, [Query] int limit = 20, CancellationToken cancellationToken = default);
}
