using System.Data.Common;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using KestrelServerOptions = Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Every error a service answers is RFC 9457 problem details a person can act on (issue 24): the framework's own
/// refusals (no route 404, 405, 415, a body over the limit 413) carry a body, and a request that does not bind — a
/// required JSON field missing, a number out of its type's range, a query value of the wrong kind — is a 400 that says
/// which, never a 500 or an empty answer.
/// </summary>
public static class ProblemResponses
{
    /// <summary>
    /// Problem details for errors, binding failures thrown (so they reach <see cref="BadRequestProblems"/> with their
    /// reason instead of an empty 400), and JSON bodies held to their contracts: a positional record's parameter without
    /// a default is required, and <c>null</c> is refused where the contract's type is not nullable (without these,
    /// <c>{}</c> read as zeros and nulls: a map closed with 0 inputs, a copy without sources).
    /// </summary>
    public static IServiceCollection AddProblemResponses(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<BadRequestProblems>();
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        // Kestrel answers a request line over its limit itself, with an empty 414 the pipeline never sees: its limit is
        // set above the one the services keep (UseProblemResponses answers those with a problem).
        services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestLineSize = KestrelRequestLineLimit);
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.RespectRequiredConstructorParameters = true;
            json.SerializerOptions.RespectNullableAnnotations = true;
        });
        return services;
    }

    /// <summary>
    /// Gives the framework's empty error answers (404 for no route, 405, 415 …) a problem-details body. Placed after a
    /// service's proxies (the ingress, the runner's web forwarder): an app's own answers pass through as the app sent them.
    /// </summary>
    public static WebApplication UseProblemResponses(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use((context, next) =>
        {
            var request = context.Request;
            var length = request.PathBase.Value?.Length + request.Path.Value?.Length + request.QueryString.Value?.Length;
            if (length > MaxUriLength)
            {
                context.Response.StatusCode = StatusCodes.Status414UriTooLong;
                return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status414UriTooLong, Title = "URI too long",
                        Detail = $"The request's path and query are {length} characters; the limit is {MaxUriLength}. Send large values in the body.",
                    },
                }).AsTask();
            }
            return next(context);
        });
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>The longest path and query a service takes (Kestrel's default request line limit).</summary>
    public const int MaxUriLength = 8 * 1024;

    private const int KestrelRequestLineLimit = 64 * 1024;

    /// <summary>
    /// Answers the exceptions that are the client's fault: a request that did not bind or read (its status, usually
    /// 400, or 413 for a body over the limit) and a text PostgreSQL cannot store (a NUL character, invalid UTF-8).
    /// </summary>
    private sealed class BadRequestProblems(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            var (status, title, detail) = exception switch
            {
                BadHttpRequestException bad => (bad.StatusCode, TitleOf(bad.StatusCode), Describe(bad)),
                // A JsonElement taken as a body keeps its strings unchecked until one is read as text: the reader then
                // throws this, marked by System.Text.Json as its own to rethrow as a JsonException (which its
                // deserializer does for typed bodies). Here it escaped from a handler's read of the request's JSON.
                InvalidOperationException { Source: JsonReaderRethrowable } => (StatusCodes.Status400BadRequest, "Invalid JSON",
                    $"The request's JSON could not be read as text: {exception.Message}"),
                _ when IsUnstorableText(exception) => (StatusCodes.Status400BadRequest, "Invalid text",
                    "A text in the request holds a character that cannot be stored (a NUL character or invalid UTF-8); remove it and try again."),
                _ => (0, "", ""),
            };
            if (status == 0)
            {
                return false;
            }
            httpContext.Response.StatusCode = status;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                ProblemDetails = { Status = status, Title = title, Detail = detail },
            });
        }

        /// <summary><c>System.Text.Json.ThrowHelper.ExceptionSourceValueToRethrowAsJsonException</c>.</summary>
        internal const string JsonReaderRethrowable = "System.Text.Json.Rethrowable";

        private const string UntranslatableCharacter = "22P05";
        private const string InvalidByteSequence = "22021";

        /// <summary>PostgreSQL refused a text of the request, in a write (wrapped by EF Core) or in a query's parameter.</summary>
        private static bool IsUnstorableText(Exception exception)
        {
            for (var current = exception; current is not null; current = current.InnerException)
            {
                if (current is DbException { SqlState: UntranslatableCharacter or InvalidByteSequence })
                {
                    return true;
                }
            }
            return false;
        }

        private static string TitleOf(int status) => status switch
        {
            StatusCodes.Status413PayloadTooLarge => "Request body too large",
            StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
            _ => "Invalid request",
        };

        /// <summary>
        /// The framework's message ("Failed to read parameter … as JSON.", "Required parameter … was not provided …") and,
        /// for a body, the JSON reader's reason, which names the field ("… missing required properties including: 'total'",
        /// "… could not be converted to System.Int64. Path: $.total").
        /// </summary>
        private static string Describe(BadHttpRequestException bad) =>
            bad.InnerException is JsonException json ? $"{bad.Message} {json.Message}" : bad.Message;
    }
}
