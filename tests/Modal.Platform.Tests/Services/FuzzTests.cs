using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Modal.Api.Contracts;
using Modal.Platform.Tests.Infrastructure;
using Modal.Scheduler;
using Modal.Secrets;
using Xunit.Abstractions;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Every route of every service, enumerated from its own OpenAPI document, sent requests made to break it
/// (<see cref="OpenApiFuzzer"/>), each service signed in as its callers are: no answer is a 5xx, and every error is
/// problem details (issue 24). The suite sends <see cref="DefaultRequests"/> per service; <c>scripts/fuzz.sh</c> sends
/// more (<c>MODAL_FUZZ_REQUESTS</c>) with a seed of its own (<c>MODAL_FUZZ_SEED</c>).
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class FuzzTests(StorageBehindApi platform, ITestOutputHelper output) : IClassFixture<StorageBehindApi>
{
    private const int DefaultRequests = 600;

    private static int Requests => int.TryParse(Environment.GetEnvironmentVariable("MODAL_FUZZ_REQUESTS"), CultureInfo.InvariantCulture, out var n) ? n : DefaultRequests;

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("MODAL_FUZZ_SEED"), CultureInfo.InvariantCulture, out var n) ? n : 24;

    [Fact]
    public async Task Api_EveryRoute_NoServerErrorAndProblemDetails()
    {
        var client = platform.Api.CreateClient();
        client.DefaultRequestHeaders.Authorization = platform.ApiAuthorization;

        await FuzzAsync("Api", client);
    }

    [Fact]
    public async Task Storage_EveryRoute_NoServerErrorAndProblemDetails() =>
        await FuzzAsync("Storage", platform.StorageClientFor(Guid.NewGuid()));

    [Fact]
    public async Task Secrets_EveryRoute_NoServerErrorAndProblemDetails()
    {
        await using var secrets = new ServiceFactory<SecretsOptions>(TestSecretKeys.Settings());
        var client = secrets.CreateDefaultClient(new WorkspaceSigningHandler(TestSecretKeys.SecretCredentials(), Guid.NewGuid()));
        client.DefaultRequestHeaders.Add(ApiHeaders.RunnerKey, TestSecretKeys.RunnerKey);

        await FuzzAsync("Secrets", client);
    }

    [Fact]
    public async Task Scheduler_EveryRoute_NoServerErrorAndProblemDetails()
    {
        await using var scheduler = new ServiceFactory<SchedulerOptions>(("Scheduler:RunnerKey", TestSecretKeys.RunnerKey));
        var client = scheduler.CreateClient();
        client.DefaultRequestHeaders.Add(ApiHeaders.RunnerKey, TestSecretKeys.RunnerKey);

        await FuzzAsync("Scheduler", client);
    }

    private async Task FuzzAsync(string service, HttpClient client)
    {
        // Long polls are bounded by the routes themselves (at most 50 s; the fuzzer's valid waits are a few seconds).
        client.Timeout = TimeSpan.FromSeconds(90);
        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));
        var fuzzer = new OpenApiFuzzer(document, Seed);
        Assert.True(fuzzer.Operations.Count > 0, $"{service}'s OpenAPI document lists no operation");
        var failures = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        for (var i = 0; i < Requests; i++)
        {
            var operation = fuzzer.Operations[i % fuzzer.Operations.Count];
            using var request = fuzzer.NextRequest(operation);
            var sent = $"{request.Method} {request.RequestUri}{await BodyOfAsync(request)}";
            using var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var body = await response.Content.ReadAsStringAsync();
            var isProblem = response.Content.Headers.ContentType?.MediaType == "application/problem+json";
            if (status >= 500 || (status >= 400 && request.Method != HttpMethod.Head && !isProblem))
            {
                failures.Add($"{status} for {sent} ({operation}): {Shorten(body)}");
            }
        }
        output.WriteLine($"{service}: {Requests} requests over {fuzzer.Operations.Count} operations (seed {Seed}); statuses " +
            string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}")));
        Assert.True(failures.Count == 0,
            $"{failures.Count} of {Requests} requests to {service} (seed {Seed}) answered a 5xx or an error without problem details; " +
            $"statuses {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}:\n{string.Join('\n', failures.Distinct().Take(25))}");
    }

    private static async Task<string> BodyOfAsync(HttpRequestMessage request) =>
        request.Content is null ? "" : $" [{request.Content.Headers.ContentType?.MediaType}] {Shorten(await request.Content.ReadAsStringAsync())}";

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
