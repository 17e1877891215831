using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Modal.Api.Contracts;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Lets through only requests carrying the install's runner key in <see cref="ApiHeaders.RunnerKey"/> (compared in
/// constant time); anything else gets 401 problem details. A service given no key refuses every request: a route behind
/// this filter is never open by omission.
/// </summary>
/// <param name="runnerKey">The key to accept; null or empty accepts nothing.</param>
/// <param name="detail">What the 401 says the route is for.</param>
public sealed class RunnerKeyFilter(string? runnerKey, string detail) : IEndpointFilter
{
    private readonly byte[]? _runnerKey = string.IsNullOrEmpty(runnerKey) ? null : Encoding.UTF8.GetBytes(runnerKey);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var presented = Encoding.UTF8.GetBytes(context.HttpContext.Request.Headers[ApiHeaders.RunnerKey].ToString());
        if (_runnerKey is null || !CryptographicOperations.FixedTimeEquals(presented, _runnerKey))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Runner credential required",
                detail: $"{detail}; present the runner key in '{ApiHeaders.RunnerKey}'.");
        }
        return await next(context).ConfigureAwait(false);
    }
}
