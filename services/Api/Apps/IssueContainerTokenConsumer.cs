using MassTransit;
using Microsoft.EntityFrameworkCore;
using Modal.Api.Authentication;
using Modal.Api.Contracts.Tokens;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;
using Modal.Contracts.Apps;

namespace Modal.Api.Apps;

/// <summary>
/// Issues the token one container of an app uses: a <see cref="TokenScopes.Container"/> token of that app (named
/// <c>container:{appId}:{runnerId}</c> for people reading the token list), revoked when the container stops
/// (<see cref="RevokeContainerTokenConsumer"/>) or the app does. Only a deployed, running app of that workspace gets one.
/// </summary>
public sealed class IssueContainerTokenConsumer(ApiDbContext db, TimeProvider clock) : IConsumer<IssueContainerToken>
{
    public static string TokenNamePrefix(Guid appId) => $"container:{appId:N}:";

    public async Task Consume(ConsumeContext<IssueContainerToken> context)
    {
        var request = context.Message;
        var running = await db.Apps.AnyAsync(
            a => a.Id == request.AppId && a.WorkspaceId == request.WorkspaceId && a.State != AppStates.Stopped, context.CancellationToken);
        if (!running)
        {
            throw new InvalidOperationException($"App {request.AppId} of workspace {request.WorkspaceId} is not running; its containers get no token.");
        }

        var (id, secret) = TokenCredentials.Generate();
        db.ApiTokens.Add(new ApiToken
        {
            Id = id,
            WorkspaceId = request.WorkspaceId,
            Name = TokenNamePrefix(request.AppId) + request.RunnerId,
            SecretHash = TokenCredentials.HashSecret(secret),
            Scope = TokenScopes.Container,
            AppId = request.AppId,
            CreatedAt = clock.GetUtcNow(),
        });
        await db.SaveChangesAsync(context.CancellationToken);
        // A stop that committed between the check above and the insert revoked the app's tokens without this one: look
        // again now that it is stored (a stop commits its state before it revokes, so one of the two sees the other).
        var stillRunning = await db.Apps.AnyAsync(a => a.Id == request.AppId && a.State != AppStates.Stopped, context.CancellationToken);
        if (!stillRunning)
        {
            await db.ApiTokens.Where(t => t.Id == id).ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, clock.GetUtcNow()), context.CancellationToken);
            throw new InvalidOperationException($"App {request.AppId} of workspace {request.WorkspaceId} stopped; its containers get no token.");
        }
        await context.RespondAsync(new ContainerToken { TokenId = id, TokenSecret = secret });
    }
}
