using System.Net;
using System.Text.Json;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>A service's <c>/health</c> answer: overall status plus each check's status.</summary>
internal sealed record HealthReport(HttpStatusCode StatusCode, string Status, IReadOnlyDictionary<string, string> Checks)
{
    public static async Task<HealthReport> ReadAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/health", UriKind.Relative));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var checks = json.RootElement.GetProperty("checks").EnumerateObject()
            .ToDictionary(check => check.Name, check => check.Value.GetProperty("status").GetString() ?? "");
        return new HealthReport(response.StatusCode, json.RootElement.GetProperty("status").GetString() ?? "", checks);
    }

    /// <summary>The status of the one check whose name contains <paramref name="fragment"/>.</summary>
    public string CheckStatus(string fragment) =>
        Checks.Single(check => check.Key.Contains(fragment, StringComparison.OrdinalIgnoreCase)).Value;

    public override string ToString() => $"{Status} ({string.Join(", ", Checks.Select(c => $"{c.Key}={c.Value}"))})";
}
