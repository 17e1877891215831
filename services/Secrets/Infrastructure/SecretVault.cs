using Microsoft.EntityFrameworkCore;
using Modal.Api.Contracts.Secrets;
using Modal.Secrets.Domain;
using Npgsql;

namespace Modal.Secrets.Infrastructure;

/// <summary>
/// The named secrets of each workspace, sealed by the <see cref="KeyRing"/>. Values are opened in two places only:
/// a merge (<see cref="UpdateAsync"/>, which re-seals with the active key) and <see cref="ResolveAsync"/>, for a runner.
/// </summary>
public sealed class SecretVault(SecretsDbContext db, KeyRing keys, TimeProvider clock)
{
    public async Task<List<SecretInfo>> ListAsync(Guid workspaceId, CancellationToken cancellationToken) =>
        (await db.Secrets.AsNoTracking().Where(s => s.WorkspaceId == workspaceId).OrderBy(s => s.Name).ToListAsync(cancellationToken))
            .Select(ToInfo).ToList();

    public async Task<SecretInfo> GetAsync(Guid workspaceId, string name, CancellationToken cancellationToken) =>
        ToInfo(await FindAsync(workspaceId, name, tracked: false, cancellationToken) ?? throw new SecretNotFoundException(name));

    /// <summary>Creates the secret; an existing one is an error unless <paramref name="allowExisting"/>, and then it is left as it is (Modal's <c>allow_existing</c>).</summary>
    public async Task<(SecretInfo Secret, bool Created)> CreateAsync(
        Guid workspaceId, string name, IReadOnlyDictionary<string, string> values, bool allowExisting, CancellationToken cancellationToken)
    {
        Validate(name, values);
        if (await FindAsync(workspaceId, name, tracked: false, cancellationToken) is { } existing)
        {
            return allowExisting ? (ToInfo(existing), false) : throw new SecretExistsException(name);
        }
        var now = clock.GetUtcNow();
        var (keyId, ciphertext) = keys.Seal(workspaceId, name, values);
        var secret = new StoredSecret
        {
            Id = Guid.CreateVersion7(), WorkspaceId = workspaceId, Name = name, Ciphertext = ciphertext, KeyId = keyId,
            KeyNames = SortedKeys(values), CreatedAt = now, UpdatedAt = now,
        };
        db.Secrets.Add(secret);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Created concurrently by another request.
            db.Entry(secret).State = EntityState.Detached;
            return allowExisting ? (await GetAsync(workspaceId, name, cancellationToken), false) : throw new SecretExistsException(name);
        }
        return (ToInfo(secret), true);
    }

    /// <summary>Sets the secret to exactly <paramref name="values"/>, creating it when missing.</summary>
    public async Task<(SecretInfo Secret, bool Created)> ReplaceAsync(
        Guid workspaceId, string name, IReadOnlyDictionary<string, string> values, CancellationToken cancellationToken)
    {
        Validate(name, values);
        if (await FindAsync(workspaceId, name, tracked: true, cancellationToken) is not { } secret)
        {
            return await CreateAsync(workspaceId, name, values, allowExisting: false, cancellationToken);
        }
        Reseal(secret, values);
        await db.SaveChangesAsync(cancellationToken);
        return (ToInfo(secret), false);
    }

    /// <summary>Merges <paramref name="values"/> into the secret (as Python's <c>dict.update</c>) and re-seals it with the active key.</summary>
    public async Task<SecretInfo> UpdateAsync(Guid workspaceId, string name, IReadOnlyDictionary<string, string> values, CancellationToken cancellationToken)
    {
        Validate(name, values);
        var secret = await FindAsync(workspaceId, name, tracked: true, cancellationToken) ?? throw new SecretNotFoundException(name);
        var merged = keys.Open(secret);
        foreach (var (key, value) in values)
        {
            merged[key] = value;
        }
        if (SecretRules.Problem(merged) is { } problem)
        {
            throw new InvalidSecretRequestException(problem);
        }
        Reseal(secret, merged);
        await db.SaveChangesAsync(cancellationToken);
        return ToInfo(secret);
    }

    public async Task DeleteAsync(Guid workspaceId, string name, CancellationToken cancellationToken)
    {
        if (await db.Secrets.Where(s => s.WorkspaceId == workspaceId && s.Name == name).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            throw new SecretNotFoundException(name);
        }
    }

    /// <summary>
    /// The values of the listed secrets as one environment: later secrets override earlier ones on the same key, as a
    /// function's secrets list does in Modal. A missing secret or key throws
    /// <see cref="SecretNotFoundException"/> or <see cref="MissingSecretKeysException"/> (checked before any value is opened).
    /// </summary>
    public async Task<Dictionary<string, string>> ResolveAsync(
        Guid workspaceId, IReadOnlyList<SecretRequirement> requirements, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var secret in await LoadAsync(workspaceId, requirements, cancellationToken))
        {
            foreach (var (key, value) in keys.Open(secret))
            {
                environment[key] = value;
            }
        }
        return environment;
    }

    /// <summary>
    /// Re-seals, with the active key, every secret sealed with another key of the ring; returns how many were. Secrets
    /// sealed with a key no longer in the ring are left alone (they fail when read, naming the key).
    /// </summary>
    public async Task<int> ResealWithActiveKeyAsync(int batchSize, CancellationToken cancellationToken)
    {
        var total = 0;
        var olderKeys = keys.KeyIds.Where(id => id != keys.ActiveKeyId).ToList();
        while (olderKeys.Count > 0)
        {
            var batch = await db.Secrets.Where(s => olderKeys.Contains(s.KeyId)).OrderBy(s => s.Id).Take(batchSize).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                return total;
            }
            foreach (var secret in batch)
            {
                Reseal(secret, keys.Open(secret), touch: false);
            }
            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();
            total += batch.Count;
        }
        return total;
    }

    private async Task<List<StoredSecret>> LoadAsync(Guid workspaceId, IReadOnlyList<SecretRequirement> requirements, CancellationToken cancellationToken)
    {
        // Checked before the query: a null entry or a name PostgreSQL cannot hold (a NUL) is the caller's mistake, not a 500.
        foreach (var requirement in requirements)
        {
            if (requirement is null || !SecretRules.IsValidName(requirement.Name))
            {
                throw new InvalidSecretRequestException(requirement is null
                    ? "Each required secret is an object with its name."
                    : $"'{requirement.Name}' is not a valid secret name: use {SecretRules.NameRule}.");
            }
        }
        var names = requirements.Select(r => r.Name).Distinct(StringComparer.Ordinal).ToList();
        var found = await db.Secrets.AsNoTracking().Where(s => s.WorkspaceId == workspaceId && names.Contains(s.Name))
            .ToDictionaryAsync(s => s.Name, StringComparer.Ordinal, cancellationToken);
        var ordered = new List<StoredSecret>();
        foreach (var requirement in requirements)
        {
            var secret = found.GetValueOrDefault(requirement.Name) ?? throw new SecretNotFoundException(requirement.Name);
            var missing = (requirement.RequiredKeys ?? []).Where(k => !secret.KeyNames.Contains(k, StringComparer.Ordinal)).Distinct().ToList();
            if (missing.Count > 0)
            {
                throw new MissingSecretKeysException(requirement.Name, missing);
            }
            ordered.Add(secret);
        }
        return ordered;
    }

    private Task<StoredSecret?> FindAsync(Guid workspaceId, string name, bool tracked, CancellationToken cancellationToken)
    {
        var query = tracked ? db.Secrets : db.Secrets.AsNoTracking();
        return query.SingleOrDefaultAsync(s => s.WorkspaceId == workspaceId && s.Name == name, cancellationToken);
    }

    private void Reseal(StoredSecret secret, IReadOnlyDictionary<string, string> values, bool touch = true)
    {
        (secret.KeyId, secret.Ciphertext) = keys.Seal(secret.WorkspaceId, secret.Name, values);
        secret.KeyNames = SortedKeys(values);
        if (touch)
        {
            secret.UpdatedAt = clock.GetUtcNow();
        }
    }

    private static void Validate(string name, IReadOnlyDictionary<string, string> values)
    {
        if (!SecretRules.IsValidName(name))
        {
            throw new InvalidSecretRequestException($"'{name}' is not a valid secret name: use {SecretRules.NameRule}.");
        }
        if (SecretRules.Problem(values) is { } problem)
        {
            throw new InvalidSecretRequestException(problem);
        }
    }

    private static List<string> SortedKeys(IEnumerable<KeyValuePair<string, string>> values) =>
        values.Select(v => v.Key).Order(StringComparer.Ordinal).ToList();

    private static SecretInfo ToInfo(StoredSecret secret) => new(secret.Name, secret.KeyNames, secret.CreatedAt, secret.UpdatedAt);
}
