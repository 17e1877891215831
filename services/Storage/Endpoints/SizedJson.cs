using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace Modal.Storage.Endpoints;

/// <summary>
/// 200 with <typeparamref name="T"/> as JSON, sent with its Content-Length in one write. <c>TypedResults.Ok</c> streams
/// its JSON without a length, so HTTP/1.1 sends it chunked and the closing empty chunk goes out as a second write after
/// the body: a client reading the body to its end (Refit does) waits for that one too. On the Dict and Queue data path,
/// a few hundred microseconds per operation, that is worth one buffered copy of a small answer.
/// </summary>
public sealed class SizedJson<T>(T value) : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult, IValueHttpResult<T>, IValueHttpResult
{
    public T Value => value;

    object? IValueHttpResult.Value => value;

    public int? StatusCode => StatusCodes.Status200OK;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var options = httpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        return new JsonBytes<T>(JsonSerializer.SerializeToUtf8Bytes(value, options)).ExecuteAsync(httpContext);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000", Justification = "IEndpointMetadataProvider is a static abstract interface member; TypedResults' own Ok<T> does the same.")]
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(T), ["application/json"]));
    }
}

/// <summary>
/// 200 with a JSON body already written (its OpenAPI type <typeparamref name="T"/>), sent with its Content-Length in one
/// write, as <see cref="SizedJson{T}"/>.
/// </summary>
public sealed class JsonBytes<T>(ReadOnlyMemory<byte> body) : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult
{
    public int? StatusCode => StatusCodes.Status200OK;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, httpContext.RequestAborted);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1000", Justification = "IEndpointMetadataProvider is a static abstract interface member; TypedResults' own Ok<T> does the same.")]
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => SizedJson<T>.PopulateMetadata(method, builder);
}

/// <summary>Creates <see cref="SizedJson{T}"/> results.</summary>
public static class SizedJson
{
    public static SizedJson<T> Ok<T>(T value) => new(value);
}
