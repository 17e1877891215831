using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Modal.Platform.Tests.Infrastructure;
using OpenTelemetry.Trace;

namespace Modal.Platform.Tests.Unit;

public sealed class ServiceDefaultsExtensionsTests
{
    [Theory]
    [InlineData(true, 1)]
    [InlineData(false, 0)]
    public async Task AddServiceDefaults_TraceIncomingRequests_DecidesWhetherAnOrdinaryRequestIsASpan(bool traceIncomingRequests, int spansExpected)
    {
        // A path of this test's own: activity listeners are process-wide, and other tests' requests may run meanwhile.
        var path = $"/v1/probe-{Guid.NewGuid():N}";
        var spans = new List<Activity>();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.AddServiceDefaults(traceIncomingRequests);
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(new LockedList(spans)));
        await using var app = builder.Build();
        app.MapGet(path, () => "ok");
        await app.StartAsync();

        using (var client = app.GetTestClient())
        {
            (await client.GetAsync(new Uri(path, UriKind.Relative))).EnsureSuccessStatusCode();
        }
        // The server's span ends (and is exported) just after the client has its answer: give it a second.
        for (var wait = 0; wait < 50 && Ours().Count == 0; wait++)
        {
            await Task.Delay(20);
        }
        await app.StopAsync();

        Assert.Equal(spansExpected, Ours().Count);

        List<Activity> Ours()
        {
            lock (spans)
            {
                return spans.Where(span => span.DisplayName.Contains(path, StringComparison.Ordinal)
                    || span.TagObjects.Any(tag => tag.Value as string == path)).ToList();
            }
        }
    }

    [Fact]
    public async Task ProblemResponses_JsonElementBodyOfInvalidUtf8ReadAsText_Answers400Problem()
    {
        // A JsonElement body keeps its strings unchecked; reading one as text in a handler throws System.Text.Json's own
        // marked exception (ProblemResponses relies on its mark), which must become the client's 400, not a 500.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseTestServer();
        builder.AddServiceDefaults();
        await using var app = builder.Build();
        app.UseDefaultExceptionHandler().UseProblemResponses();
        app.MapPost("/names", (System.Text.Json.JsonElement body) => body.GetProperty("name").GetString());
        await app.StartAsync();
        using var client = app.GetTestClient();
        using var content = new ByteArrayContent([.. "{\"name\": \""u8, 0xFF, .. "\"}"u8]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await client.PostAsync(new Uri("/names", UriKind.Relative), content);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("UTF-8", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
