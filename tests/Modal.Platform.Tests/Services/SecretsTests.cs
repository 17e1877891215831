using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Modal.Api.Contracts;
using Modal.Platform.Tests.Infrastructure;
using Modal.Secrets;
using Modal.Secrets.Infrastructure;
using Npgsql;

namespace Modal.Platform.Tests.Services;

/// <summary>The Secrets service alone on the real PostgreSQL: its API, its key ring and its start-up checks.</summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class SecretsTests(InfrastructureFixture infrastructure)
{
    private static readonly string[] TokenAndUrl = ["TOKEN", "URL"];

    private sealed record Info(string Name, List<string> Keys);

    private sealed record Resolved(Dictionary<string, string> Environment);

    [Fact]
    public async Task Start_FreshDatabase_AppliesMigrationsAndServesAnEmptyList()
    {
        await using var secrets = new ServiceFactory<SecretsOptions>(TestSecretKeys.Settings());
        using var client = ClientFor(secrets, Guid.NewGuid());

        var list = await client.GetFromJsonAsync<List<Info>>("/v1/secrets");

        Assert.NotNull(list);
        Assert.Empty(list);
        await using var connection = new NpgsqlConnection(infrastructure.DatabaseConnectionString("modal_secrets", "modal_secrets"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT count(*) FROM "__EFMigrationsHistory" WHERE "MigrationId" LIKE '%KeyRingAndKeyNames'""", connection);
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    [Theory]
    [InlineData("Secrets:Keys", null)]
    [InlineData("Secrets:Keys:short", "c2hvcnQ=")]
    [InlineData("Secrets:ActiveKeyId 'missing'", "missing")]
    public void Start_KeyRingMisconfigured_FailsNamingTheSetting(string setting, string? value)
    {
        (string, string)[] settings = setting switch
        {
            "Secrets:Keys" => [("Secrets:ActiveKeyId", "k1"), ("Secrets:RunnerKey", TestSecretKeys.RunnerKey)],
            "Secrets:Keys:short" => [("Secrets:Keys:short", value!), ("Secrets:ActiveKeyId", "short"), ("Secrets:RunnerKey", TestSecretKeys.RunnerKey)],
            _ => [("Secrets:Keys:k1", TestSecretKeys.NewKey()), ("Secrets:ActiveKeyId", value!), ("Secrets:RunnerKey", TestSecretKeys.RunnerKey)],
        };
        using var secrets = new ServiceFactory<SecretsOptions>(settings);

        var failure = Assert.Throws<OptionsValidationException>(() => secrets.CreateClient());

        Assert.Contains(setting, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateUpdateList_MergesKeysAndNeverAnswersValues()
    {
        await using var secrets = new ServiceFactory<SecretsOptions>(TestSecretKeys.Settings());
        var workspace = Guid.NewGuid();
        using var client = ClientFor(secrets, workspace);

        var created = await client.PostAsJsonAsync("/v1/secrets", new { name = "db", values = new Dictionary<string, string> { ["USER"] = "u-value", ["PASSWORD"] = "p-value" } });
        var again = await client.PostAsJsonAsync("/v1/secrets", new { name = "db", values = new Dictionary<string, string> { ["OTHER"] = "o" } });
        var allowed = await client.PostAsJsonAsync("/v1/secrets", new { name = "db", values = new Dictionary<string, string> { ["OTHER"] = "o" }, allowExisting = true });
        var merged = await client.PatchAsJsonAsync("/v1/secrets/db", new { values = new Dictionary<string, string> { ["PASSWORD"] = "p2-value", ["HOST"] = "h-value" } });
        var invalid = await client.PostAsJsonAsync("/v1/secrets", new { name = "bad", values = new Dictionary<string, string> { ["1X"] = "x" } });
        var listed = await client.GetStringAsync("/v1/secrets");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(["PASSWORD", "USER"], (await allowed.Content.ReadFromJsonAsync<Info>())!.Keys);
        Assert.Equal(["HOST", "PASSWORD", "USER"], (await merged.Content.ReadFromJsonAsync<Info>())!.Keys);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("'1X'", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("-value", listed, StringComparison.Ordinal);
        var resolved = await ResolveAsync(secrets, workspace, "db");
        Assert.Equal(new Dictionary<string, string> { ["HOST"] = "h-value", ["PASSWORD"] = "p2-value", ["USER"] = "u-value" }, resolved);
    }

    [Fact]
    public async Task SecretsService_BareWorkspaceHeader_Returns401AndNothingIsListedOrChanged()
    {
        await using var secrets = new ServiceFactory<SecretsOptions>(TestSecretKeys.Settings());
        var (victim, name) = await VictimSecretAsync(secrets);
        // What any process that reaches the service's port could send before: the workspace named in a bare header.
        using var attacker = secrets.CreateClient();
        attacker.DefaultRequestHeaders.Add("Modal-Workspace-Id", victim.ToString());

        var answers = await EveryRouteAsync(attacker, name);

        await AssertRefusedAndUnchangedAsync(secrets, victim, name, answers);
    }

    [Fact]
    public async Task SecretsService_ValidStorageCredential_Returns401AndNothingIsListedOrChanged()
    {
        await using var secrets = new ServiceFactory<SecretsOptions>(TestSecretKeys.Settings());
        var (victim, name) = await VictimSecretAsync(secrets);
        // A container token may obtain this (POST /v1/storage/credentials): it opens Storage, and must not open Secrets,
        // in Storage's header, in the Secrets service's, or with the workspace header beside it.
        var storageCredential = TestSecretKeys.StorageCredentials().Issue(victim).Credential;
        Assert.Equal(victim, TestSecretKeys.StorageCredentials().Validate(storageCredential));
        using var attacker = secrets.CreateClient();
        attacker.DefaultRequestHeaders.Add("Modal-Workspace-Id", victim.ToString());
        attacker.DefaultRequestHeaders.Add(StorageCredentials.HeaderName, storageCredential);
        attacker.DefaultRequestHeaders.Add(SecretCredentials.HeaderName, storageCredential);

        var answers = await EveryRouteAsync(attacker, name);

        await AssertRefusedAndUnchangedAsync(secrets, victim, name, answers);
    }

    [Fact]
    public async Task SecretsService_ExpiredOrForeignKeyCredential_Returns401()
    {
        await using var secrets = new ServiceFactory<SecretsOptions>(TestSecretKeys.Settings());
        var (victim, name) = await VictimSecretAsync(secrets);
        var expired = TestSecretKeys.SecretCredentials().Issue(victim, DateTimeOffset.UtcNow.AddSeconds(-1));
        var otherInstall = new SecretCredentials(Options.Create(new SecretCredentialOptions { Key = TestSecretKeys.NewKey() }), TimeProvider.System)
            .Issue(victim).Credential;

        var answers = new List<HttpResponseMessage>();
        foreach (var credential in new[] { expired, otherInstall })
        {
            using var attacker = secrets.CreateClient();
            attacker.DefaultRequestHeaders.Add(SecretCredentials.HeaderName, credential);
            answers.AddRange(await EveryRouteAsync(attacker, name));
        }

        await AssertRefusedAndUnchangedAsync(secrets, victim, name, [.. answers]);
    }

    [Fact]
    public async Task Resolve_MissingSecretOrKey_AnswersNamingItWithoutValues()
    {
        await using var secrets = new ServiceFactory<SecretsOptions>(TestSecretKeys.Settings());
        var workspace = Guid.NewGuid();
        using var client = ClientFor(secrets, workspace);
        await client.PostAsJsonAsync("/v1/secrets", new { name = "api", values = new Dictionary<string, string> { ["TOKEN"] = "t-value" } });
        using var runner = RunnerClient(secrets);

        var missingKey = await runner.PostAsJsonAsync("/internal/v1/secrets/resolve",
            new { workspaceId = workspace, secrets = new[] { new { name = "api", requiredKeys = TokenAndUrl } } });
        var missingSecret = await runner.PostAsJsonAsync("/internal/v1/secrets/resolve",
            new { workspaceId = workspace, secrets = new[] { new { name = "nope", requiredKeys = Array.Empty<string>() } } });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, missingKey.StatusCode);
        var problem = await missingKey.Content.ReadAsStringAsync();
        Assert.Contains("Secret 'api' is missing required key 'URL'", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("t-value", problem, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missingSecret.StatusCode);
    }

    [Fact]
    public async Task Start_WithANewActiveKey_ReSealsOldSecretsSoTheOldKeyCanGo()
    {
        var (oldKey, newKey) = (TestSecretKeys.NewKey(), TestSecretKeys.NewKey());
        var (oldId, newId) = ($"old{Guid.NewGuid():N}"[..12], $"new{Guid.NewGuid():N}"[..12]);
        var workspace = Guid.NewGuid();
        // A database of its own: a rotation re-seals every secret of its database, and other tests share theirs.
        var database = $"modal_secrets_rotation_{Guid.NewGuid():N}"[..32];
        await infrastructure.CreateDatabaseAsync(database, "modal_secrets");
        var connection = ("ConnectionStrings:secretsdb", infrastructure.DatabaseConnectionString(database, "modal_secrets"));
        await using (var before = new ServiceFactory<SecretsOptions>(
            connection, ($"Secrets:Keys:{oldId}", oldKey), ("Secrets:ActiveKeyId", oldId), ("Secrets:RunnerKey", TestSecretKeys.RunnerKey)))
        {
            using var client = ClientFor(before, workspace);
            (await client.PostAsJsonAsync("/v1/secrets", new { name = "rotated", values = new Dictionary<string, string> { ["K"] = "v" } })).EnsureSuccessStatusCode();
        }
        Assert.Equal(oldId, await KeyIdOfAsync(database, workspace, "rotated"));

        // Both keys: the secret opens with the old one and is re-sealed with the new one at start.
        await using (var rotating = new ServiceFactory<SecretsOptions>(
            connection, ($"Secrets:Keys:{oldId}", oldKey), ($"Secrets:Keys:{newId}", newKey), ("Secrets:ActiveKeyId", newId), ("Secrets:RunnerKey", TestSecretKeys.RunnerKey)))
        {
            _ = rotating.CreateClient();
        }
        Assert.Equal(newId, await KeyIdOfAsync(database, workspace, "rotated"));

        await using var after = new ServiceFactory<SecretsOptions>(
            connection, ($"Secrets:Keys:{newId}", newKey), ("Secrets:ActiveKeyId", newId), ("Secrets:RunnerKey", TestSecretKeys.RunnerKey));
        Assert.Equal(new Dictionary<string, string> { ["K"] = "v" }, await ResolveAsync(after, workspace, "rotated"));
    }

    /// <summary>A client of the Secrets service acting for <paramref name="workspace"/> as the Api does: every request signed.</summary>
    private static HttpClient ClientFor(ServiceFactory<SecretsOptions> secrets, Guid workspace) =>
        secrets.CreateDefaultClient(new WorkspaceSigningHandler(TestSecretKeys.SecretCredentials(), workspace));

    /// <summary>Every <c>/v1/secrets</c> route against <paramref name="name"/>, with whatever headers <paramref name="client"/> sends.</summary>
    private static async Task<HttpResponseMessage[]> EveryRouteAsync(HttpClient client, string name)
    {
        var values = new Dictionary<string, string> { ["PASSWORD"] = "attacker" };
        return
        [
            await client.GetAsync(new Uri("/v1/secrets", UriKind.Relative)),
            await client.GetAsync(new Uri($"/v1/secrets/{name}", UriKind.Relative)),
            await client.PostAsJsonAsync(new Uri("/v1/secrets", UriKind.Relative), new { name = $"{name}-new", values }),
            await client.PutAsJsonAsync(new Uri($"/v1/secrets/{name}", UriKind.Relative), new { values }),
            await client.PatchAsJsonAsync(new Uri($"/v1/secrets/{name}", UriKind.Relative), new { values }),
            await client.DeleteAsync(new Uri($"/v1/secrets/{name}", UriKind.Relative)),
        ];
    }

    /// <summary>Asserts every answer is a 401 problem saying what to do, and the victim's secret is exactly as it was.</summary>
    private static async Task AssertRefusedAndUnchangedAsync(ServiceFactory<SecretsOptions> secrets, Guid victim, string name, HttpResponseMessage[] answers)
    {
        foreach (var answer in answers)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
            var problem = await answer.Content.ReadAsStringAsync();
            Assert.Contains("Missing or invalid secrets credential", problem, StringComparison.Ordinal);
            Assert.Contains("/v1/secrets on the Api", problem, StringComparison.Ordinal);
            Assert.DoesNotContain(name, problem, StringComparison.Ordinal);
        }
        using var owner = ClientFor(secrets, victim);
        Assert.Equal([name], (await owner.GetFromJsonAsync<List<Info>>("/v1/secrets"))!.Select(s => s.Name));
        Assert.Equal(new Dictionary<string, string> { ["PASSWORD"] = "p-value" }, await ResolveAsync(secrets, victim, name));
    }

    /// <summary>A Secrets service with a workspace of its own holding one secret, <c>PASSWORD=p-value</c>.</summary>
    private static async Task<(Guid Victim, string Name)> VictimSecretAsync(ServiceFactory<SecretsOptions> secrets)
    {
        var (victim, name) = (Guid.NewGuid(), $"victim-{Guid.NewGuid():N}"[..20]);
        using var owner = ClientFor(secrets, victim);
        (await owner.PostAsJsonAsync("/v1/secrets", new { name, values = new Dictionary<string, string> { ["PASSWORD"] = "p-value" } })).EnsureSuccessStatusCode();
        return (victim, name);
    }

    private static HttpClient RunnerClient(ServiceFactory<SecretsOptions> secrets)
    {
        var client = secrets.CreateClient();
        client.DefaultRequestHeaders.Add(ApiHeaders.RunnerKey, TestSecretKeys.RunnerKey);
        return client;
    }

    private static async Task<Dictionary<string, string>> ResolveAsync(ServiceFactory<SecretsOptions> secrets, Guid workspace, string name)
    {
        using var runner = RunnerClient(secrets);
        var response = await runner.PostAsJsonAsync("/internal/v1/secrets/resolve", new { workspaceId = workspace, secrets = new[] { new { name } } });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<Resolved>())!.Environment;
    }

    private async Task<string?> KeyIdOfAsync(string database, Guid workspace, string name)
    {
        await using var connection = new NpgsqlConnection(infrastructure.DatabaseConnectionString(database, "modal_secrets"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT key_id FROM secrets WHERE workspace_id = @w AND name = @n", connection);
        command.Parameters.AddWithValue("w", workspace);
        command.Parameters.AddWithValue("n", name);
        return (string?)await command.ExecuteScalarAsync();
    }
}
