using System.Net;
using System.Net.Http.Json;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>The SDK's Dict through the Api (token auth, forwarding) to Storage on the real Redis.</summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class DictTests(StorageBehindApi platform) : IClassFixture<StorageBehindApi>
{
    private sealed record Model(string Name, int Layers, double[] Weights);

    [Fact]
    public async Task PutAsync_ThenGetAsync_TypedValueRoundTrips()
    {
        var dict = NewDict();
        var model = new Model("resnet", 50, [0.5, -1.25]);

        Assert.True(await dict.PutAsync("model", model));
        var read = await dict.GetAsync<Model>("model");

        Assert.Equal(model.Name, read!.Name);
        Assert.Equal(model.Weights, read.Weights);
    }

    [Fact]
    public async Task GetAsync_MissingKey_ReturnsTheDefault()
    {
        var dict = NewDict();
        await dict.PutAsync("present", 1);

        Assert.Equal(-1, await dict.GetAsync("absent", -1));
        Assert.Null(await dict.GetAsync<string>("absent"));
    }

    [Fact]
    public async Task PutAsync_SkipIfExists_TwoConcurrentWritersPerKey_ExactlyOneWinsAndItsValueStays()
    {
        var dict = NewDict();
        await dict.InfoAsync();
        // Two handles, as two processes would hold; forty keys so that a race is actually run many times.
        var other = Dict.FromName(platform.Client, dict.Name);
        var keys = Enumerable.Range(0, 40).Select(i => $"lock-{i}").ToList();

        var outcomes = await Task.WhenAll(keys.Select(async key =>
        {
            var results = await Task.WhenAll(dict.PutAsync(key, "first", skipIfExists: true), other.PutAsync(key, "second", skipIfExists: true));
            return (Key: key, First: results[0], Second: results[1]);
        }));

        foreach (var (key, first, second) in outcomes)
        {
            Assert.True(first ^ second, $"exactly one writer of '{key}' must win (first {first}, second {second})");
            Assert.Equal(first ? "first" : "second", await dict.GetAsync<string>(key));
        }
    }

    [Fact]
    public async Task PutAsync_SkipIfExistsOverAnEntry_KeepsTheEntry()
    {
        var dict = NewDict();
        await dict.PutAsync("k", "original");

        Assert.False(await dict.PutAsync("k", "replacement", skipIfExists: true));
        Assert.Equal("original", await dict.GetAsync<string>("k"));
        Assert.True(await dict.PutAsync("k", "replacement"));
        Assert.Equal("replacement", await dict.GetAsync<string>("k"));
    }

    [Fact]
    public async Task UpdatePopContainsLenClear_BehaveAsModal()
    {
        var dict = NewDict();
        await dict.UpdateAsync(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2, ["c"] = 3 });

        Assert.Equal(3, await dict.LenAsync());
        Assert.Equal(2, await dict.PopAsync<int>("b"));
        Assert.False(await dict.ContainsAsync("b"));
        Assert.True(await dict.ContainsAsync("a"));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => dict.PopAsync<int>("b"));
        Assert.Equal(2, await dict.LenAsync());

        await dict.ClearAsync();

        Assert.Equal(0, await dict.LenAsync());
        Assert.False(await dict.ContainsAsync("a"));
    }

    [Fact]
    public async Task ItemsKeysValues_MoreEntriesThanOnePage_StreamEachEntryOnce()
    {
        var dict = NewDict();
        var entries = Enumerable.Range(0, 1_234).ToDictionary(i => $"key-{i}", i => i);
        await dict.UpdateAsync(entries);

        var items = new List<KeyValuePair<string, int>>();
        await foreach (var item in dict.ItemsAsync<int>())
        {
            items.Add(item);
        }
        var keys = new List<string>();
        await foreach (var key in dict.KeysAsync())
        {
            keys.Add(key);
        }
        var values = new List<int>();
        await foreach (var value in dict.ValuesAsync<int>())
        {
            values.Add(value);
        }

        Assert.Equal(entries.OrderBy(e => e.Key), items.OrderBy(e => e.Key));
        Assert.Equal(entries.Keys.Order(), keys.Order());
        Assert.Equal(entries.Values.Order(), values.Order());
    }

    [Fact]
    public async Task FromName_UnknownDict_ThrowsNotFoundNamingIt_AndTheApiAnswers404NamingIt()
    {
        var name = $"missing-{Guid.NewGuid():N}";

        var error = await Assert.ThrowsAsync<NotFoundException>(() => Dict.FromName(platform.Client, name).GetAsync<int>("k"));
        using var response = await platform.Client.Http.GetAsync(new Uri($"/v1/dicts/{name}/entry?key=k", UriKind.Relative));

        Assert.Contains(name, error.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains(name, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutAsync_ValueOver1MiB_ThrowsRequestSizeExceptionFrom413()
    {
        var dict = NewDict();

        await Assert.ThrowsAsync<RequestSizeException>(() => dict.PutAsync("big", new string('x', 1024 * 1024 + 1)));
        Assert.False(await dict.ContainsAsync("big"));
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("slash%2Fin")]
    [InlineData("a-name-that-is-far-too-long-for-the-rule-of-sixty-four-characters-x")]
    public async Task Ensure_InvalidName_Returns400ProblemNamingIt(string name)
    {
        using var response = await platform.Client.Http.PutAsync(new Uri($"/v1/dicts/{name}", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not a valid name", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListAndDelete_NamedDict_ListedUntilDeletedThenNotFound()
    {
        var dict = NewDict();
        await dict.PutAsync("k", 1);

        Assert.Contains(await Dict.ListAsync(platform.Client), d => d.Name == dict.Name && !d.Ephemeral);
        await Dict.DeleteAsync(platform.Client, dict.Name);

        Assert.DoesNotContain(await Dict.ListAsync(platform.Client), d => d.Name == dict.Name);
        await Assert.ThrowsAsync<NotFoundException>(() => Dict.FromName(platform.Client, dict.Name).GetAsync<int>("k"));
        await Assert.ThrowsAsync<NotFoundException>(() => Dict.DeleteAsync(platform.Client, dict.Name));
    }

    [Fact]
    public async Task Ephemeral_UsableWhileHeld_GoneOnceDisposed()
    {
        string name;
        await using (var dict = await Dict.EphemeralAsync(platform.Client))
        {
            name = dict.Name;
            await dict.PutAsync("k", "v");
            Assert.Equal("v", await dict.GetAsync<string>("k"));
            Assert.Contains(await Dict.ListAsync(platform.Client), d => d.Name == name && d.Ephemeral);
        }

        await Assert.ThrowsAsync<NotFoundException>(() => Dict.FromName(platform.Client, name).GetAsync<string>("k"));
    }

    [Fact]
    public async Task Workspaces_SeeOnlyTheirOwnDicts_AndAClientSentWorkspaceHeaderIsIgnored()
    {
        var otherWorkspace = Guid.NewGuid();
        var name = $"private-{Guid.NewGuid():N}";
        using var other = platform.StorageClientFor(otherWorkspace);
        (await other.PutAsync(new Uri($"/v1/dicts/{name}", UriKind.Relative), null)).EnsureSuccessStatusCode();
        (await other.PutAsJsonAsync(new Uri($"/v1/dicts/{name}/entry?key=secret", UriKind.Relative), 42)).EnsureSuccessStatusCode();

        using var forged = new HttpRequestMessage(HttpMethod.Get, new Uri($"/v1/dicts/{name}/entry?key=secret", UriKind.Relative));
        forged.Headers.Add("Modal-Workspace-Id", otherWorkspace.ToString());
        using var response = await platform.Client.Http.SendAsync(forged);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain(await Dict.ListAsync(platform.Client), d => d.Name == name);
    }

    [Fact]
    public async Task Storage_RequestWithoutCredential_Returns401Problem()
    {
        using var response = await platform.Storage.CreateClient().GetAsync(new Uri("/v1/dicts", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Modal-Storage-Credential", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_RequestWithoutToken_Returns401()
    {
        using var anonymous = platform.Api.CreateClient();

        using var response = await anonymous.GetAsync(new Uri("/v1/dicts", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private Dict NewDict() => Dict.FromName(platform.Client, $"dict-{Guid.NewGuid():N}", createIfMissing: true);
}

/// <summary>Expiry on Storages configured with short TTLs, so the tests wait seconds instead of days.</summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class DictExpiryTests
{
    [Fact]
    public async Task Entry_UntouchedPastItsTtl_IsGone()
    {
        await using var platform = await StorageBehindApi.StartAsync(("Storage:DictEntryTtl", "00:00:02"));
        var dict = Dict.FromName(platform.Client, $"ttl-{Guid.NewGuid():N}", createIfMissing: true);
        await dict.PutAsync("k", "v");

        await Eventually.ReturnsAsync(() => dict.ContainsAsync("k"), contains => !contains, "the entry expires");

        Assert.Null(await dict.GetAsync<string>("k"));
        Assert.Equal(0, await dict.LenAsync());
    }

    [Fact]
    public async Task Ephemeral_CreatorStopsBeating_IsGoneAfterTheEphemeralTtl()
    {
        await using var platform = await StorageBehindApi.StartAsync(("Storage:EphemeralTtl", "00:00:03"));
        var name = $"crashed-{Guid.NewGuid():N}";
        // Created as an SDK would, but nobody beats for it: its creator "crashed".
        await platform.Client.Dicts.EnsureAsync(name, ephemeral: true);
        var dict = Dict.FromName(platform.Client, name);
        await dict.PutAsync("k", 1);

        await Eventually.ReturnsAsync(async () => (await Dict.ListAsync(platform.Client)).Any(d => d.Name == name), listed => !listed,
            "the ephemeral Dict is dropped");

        await Assert.ThrowsAsync<NotFoundException>(() => dict.GetAsync<int>("k"));
    }
}
