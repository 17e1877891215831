using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Modal.Api.Authentication;
using Modal.Api.Contracts.Tokens;
using Modal.Api.Infrastructure;
using Modal.Contracts.Apps;

namespace Modal.Api.Apps;

/// <summary>
/// A container stopped: its token dies with it. Only a <see cref="TokenScopes.Container"/> token of the named app and
/// workspace is revoked (a message naming a workspace token changes nothing). Effective at once on the replica that
/// consumes it, within the auth cache's 30 s on others.
/// </summary>
public sealed class RevokeContainerTokenConsumer(ApiDbContext db, IMemoryCache cache, TimeProvider clock) : IConsumer<RevokeContainerToken>
{
    public async Task Consume(ConsumeContext<RevokeContainerToken> context)
    {
        var request = context.Message;
        var now = clock.GetUtcNow();
        await db.ApiTokens
            .Where(t => t.Id == request.TokenId && t.WorkspaceId == request.WorkspaceId && t.AppId == request.AppId
                && t.Scope == TokenScopes.Container && t.RevokedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.RevokedAt, now), context.CancellationToken);
        TokenAuthenticationHandler.Forget(cache, request.TokenId);
    }
}
