using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Modal.Api.Contracts.Objects;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Bad input answered as problem details a person can act on (issue 24): the framework's own refusals carry a body, a
/// body that does not hold its contract's required fields is a 400 naming the field, and what once reached a 500
/// (a number that overflows, invalid UTF-8, a NUL in a name) is refused before anything is stored.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class BadInputTests(StorageBehindApi platform) : IClassFixture<StorageBehindApi>
{
    [Theory]
    [InlineData("GET", "/v1/no-such-route", HttpStatusCode.NotFound)]
    [InlineData("DELETE", "/v1/workspaces", HttpStatusCode.MethodNotAllowed)]
    public async Task Api_NoSuchRouteOrMethod_AnswersProblemDetails(string method, string path, HttpStatusCode expected)
    {
        using var response = await ApiClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await AssertProblemAsync(response, expected);
    }

    [Fact]
    public async Task Api_BodyNotJson_Answers415ProblemDetails()
    {
        using var response = await ApiClient().PostAsync(new Uri("/v1/tokens", UriKind.Relative), new StringContent("name=ci", Encoding.UTF8, "text/plain"));

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Api_UriOverTheLimit_Answers414ProblemNamingTheLimit()
    {
        using var response = await ApiClient().GetAsync(new Uri($"/v1/apps?filler={new string('x', 9000)}", UriKind.Relative));

        var problem = await AssertProblemAsync(response, HttpStatusCode.RequestUriTooLong);
        Assert.Contains("8192", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CloseMap_EmptyBody_Answers400NamingTotal()
    {
        // Once read as total 0: a map closed with its inputs still pending.
        using var response = await ApiClient().PostAsJsonAsync(new Uri("/v1/maps/fc-0/close", UriKind.Relative), new { });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("'total'", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CloseMap_TotalNotANumber_Answers400NamingThePath()
    {
        using var response = await ApiClient().PostAsync(new Uri("/v1/maps/fc-0/close", UriKind.Relative), Json("""{"total": 1e40}"""));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("$.total", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_WithoutFunctions_Answers400AndLeavesTheAppAlone()
    {
        var name = $"bad-input-{Guid.NewGuid():N}"[..24];
        var api = ApiClient();

        using var response = await api.PutAsync(new Uri($"/v1/apps/{name}", UriKind.Relative), Json("{}"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("functions", problem.ToString(), StringComparison.Ordinal);
        using var app = await api.GetAsync(new Uri($"/v1/apps/{name}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, app.StatusCode);
    }

    [Fact]
    public async Task CreateToken_NulInTheName_Answers400()
    {
        using var response = await ApiClient().PostAsJsonAsync(new Uri("/v1/tokens", UriKind.Relative), new { name = "ci\0x" });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("control characters", problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VolumeCopy_EmptyBody_Answers400NamingTheFields()
    {
        var volume = $"bad-input-{Guid.NewGuid():N}"[..24];
        await CreateAsync("volumes", volume);

        using var response = await ApiClient().PostAsJsonAsync(new Uri($"/v1/volumes/{volume}/copy", UriKind.Relative), new { });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("'sources'", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1e22")]
    [InlineData("NaN")]
    [InlineData("0")]
    public async Task QueuePut_PartitionTtlOutOfRange_Answers400AndStoresNothing(string ttl)
    {
        var queue = $"bad-input-{Guid.NewGuid():N}"[..24];
        await CreateAsync("queues", queue);
        var api = ApiClient();

        using var response = await api.PostAsync(new Uri($"/v1/queues/{queue}/items?partitionTtl={ttl}", UriKind.Relative), Json("[1]"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("partitionTtl", problem.Detail, StringComparison.Ordinal);
        Assert.Equal(0, (await api.GetFromJsonAsync<ObjectLength>(new Uri($"/v1/queues/{queue}/len", UriKind.Relative)))!.Length);
    }

    [Fact]
    public async Task QueueGet_TimeoutNaN_Answers400()
    {
        var queue = $"bad-input-{Guid.NewGuid():N}"[..24];
        await CreateAsync("queues", queue);

        using var response = await ApiClient().PostAsync(new Uri($"/v1/queues/{queue}/get?timeout=NaN", UriKind.Relative), null);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task DictUpdate_KeyOfInvalidUtf8_Answers400AndKeepsTheEntries()
    {
        var dict = $"bad-input-{Guid.NewGuid():N}"[..24];
        await CreateAsync("dicts", dict);
        var api = ApiClient();
        using (var good = await api.PostAsync(new Uri($"/v1/dicts/{dict}/entries", UriKind.Relative), Json("""{"kept": 1}""")))
        {
            good.EnsureSuccessStatusCode();
        }
        var invalid = new ByteArrayContent([.. "{\""u8, 0xFF, 0xFE, .. "\": 2}"u8]);
        invalid.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await api.PostAsync(new Uri($"/v1/dicts/{dict}/entries", UriKind.Relative), invalid);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("UTF-8", problem.Detail, StringComparison.Ordinal);
        Assert.Equal(1, (await api.GetFromJsonAsync<ObjectLength>(new Uri($"/v1/dicts/{dict}/len", UriKind.Relative)))!.Length);
    }

    [Fact]
    public async Task Storage_RealServer_BodyOverTheLimit_Answers413ProblemBeforeReadingIt()
    {
        // Kestrel's limits hold only in a real server (the test server has none): Storage as its own process.
        await using var storage = await ServiceProcess.StartAsync("Storage", ("DOTNET_ENVIRONMENT", "Production"));
        using var http = new HttpClient { BaseAddress = storage.Address };
        // The client waits for "100 Continue" before sending the body, so the refusal is read, not a broken pipe.
        http.DefaultRequestHeaders.ExpectContinue = true;
        http.DefaultRequestHeaders.Add(StorageCredentials.HeaderName,
            TestSecretKeys.StorageCredentials().Issue(Guid.NewGuid()).Credential);
        // Over 32 MiB, and never sent in full: the answer must come from the declared length.
        var body = new ByteArrayContent(new byte[33 * 1024 * 1024]);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await http.PostAsync(new Uri("/v1/volumes/v/commit", UriKind.Relative), body);

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        using var longUri = await http.GetAsync(new Uri($"/v1/dicts/d/len?x={new string('y', 10_000)}", UriKind.Relative));
        await AssertProblemAsync(longUri, HttpStatusCode.RequestUriTooLong);
    }

    private HttpClient ApiClient()
    {
        var client = platform.Api.CreateClient();
        client.DefaultRequestHeaders.Authorization = platform.ApiAuthorization;
        return client;
    }

    private async Task CreateAsync(string kind, string name)
    {
        using var response = await ApiClient().PutAsync(new Uri($"/v1/{kind}/{name}", UriKind.Relative), null);
        response.EnsureSuccessStatusCode();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<Problem> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonSerializer.Deserialize<Problem>(body, JsonSerializerOptions.Web)!;
        Assert.Equal((int)expected, problem.Status);
        Assert.False(string.IsNullOrWhiteSpace(problem.Title), body);
        return problem with { Raw = body };
    }

    private sealed record Problem(int Status, string? Title, string? Detail, string? Raw = null)
    {
        public override string ToString() => Raw ?? "";
    }
}
