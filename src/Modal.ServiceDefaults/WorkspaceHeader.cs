using Microsoft.AspNetCore.Http;
using Modal.Api.Contracts;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The header naming the workspace a request acts for. The Api sets it, from the caller's token, on the requests it
/// forwards (Dicts, Queues, Secrets). The services behind it trust it only when they have no credential key
/// (<see cref="WorkspaceCredentials.WorkspaceOf"/>): then they must not be reachable by anyone but platform services.
/// </summary>
public static class WorkspaceHeader
{
    public const string Name = ApiHeaders.WorkspaceId;

    /// <summary>The workspace id, or null when the header is missing, malformed or the empty id.</summary>
    public static Guid? TryRead(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Guid.TryParse(context.Request.Headers[Name], out var id) && id != Guid.Empty ? id : null;
    }
}
