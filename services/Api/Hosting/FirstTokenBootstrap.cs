using Microsoft.EntityFrameworkCore;
using Modal.Api.Authentication;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;

namespace Modal.Api.Hosting;

/// <summary>
/// A fresh install has no way in: the first start creates the default workspace and one token for it, prints the
/// token once and, if configured, writes it to a file only the owner can read.
/// </summary>
internal static class FirstTokenBootstrap
{
    // Any fixed number: serialises concurrent Api starts so only one of them creates the first token.
    private const long BootstrapLockKey = 0x4d4f44414c;

    public static async Task SeedAsync(ApiDbContext db, ApiOptions options, TimeProvider clock, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({BootstrapLockKey})", cancellationToken);

        var now = clock.GetUtcNow();
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO workspaces (id, name, created_at) VALUES ({Guid.CreateVersion7()}, {options.DefaultWorkspace}, {now}) ON CONFLICT (name) DO NOTHING",
            cancellationToken);

        if (await db.ApiTokens.AnyAsync(cancellationToken))
        {
            await transaction.CommitAsync(cancellationToken);
            return;
        }

        var workspaceId = await db.Workspaces.Where(w => w.Name == options.DefaultWorkspace).Select(w => w.Id).SingleAsync(cancellationToken);
        var (id, secret) = TokenCredentials.Generate();
        db.ApiTokens.Add(new ApiToken
        {
            Id = id,
            WorkspaceId = workspaceId,
            Name = "first token",
            SecretHash = TokenCredentials.HashSecret(secret),
            CreatedAt = now,
        });
        await db.SaveChangesAsync(cancellationToken);

        if (!string.IsNullOrWhiteSpace(options.FirstTokenFile))
        {
            await WriteOwnerOnlyAsync(options.FirstTokenFile, $"MODAL_TOKEN_ID={id}\nMODAL_TOKEN_SECRET={secret}\n", cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);

        // Printed on purpose and only here: this is the one moment the secret exists in plain text.
        Console.WriteLine(
            $"""
            ================================================================================
            First workspace token for '{options.DefaultWorkspace}' (shown once, store it now):
              MODAL_TOKEN_ID={id}
              MODAL_TOKEN_SECRET={secret}
            ================================================================================
            """);
    }

    private static async Task WriteOwnerOnlyAsync(string path, string content, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using var file = new FileStream(path, fileOptions);
        await using var writer = new StreamWriter(file);
        await writer.WriteAsync(content.AsMemory(), cancellationToken);
    }
}
