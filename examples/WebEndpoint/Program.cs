// Web functions (Modal's fastapi_endpoint): each HTTP request to an endpoint's URL becomes a call of the function,
// through the same queue, retries, autoscaling and logs as RemoteAsync. The query string and a JSON body bind to the
// parameters by name; the result comes back as JSON, or as written when the function returns a WebResponse.
// Deploy it with `modal deploy examples/WebEndpoint` (the README shows the curl commands).
using Modal;
using WebEndpointExample;

var app = new App("example-web-endpoint");

// GET /?name=Ada&times=2 → "Hello, Ada! Hello, Ada!"
app.Function("greet", (string name, int times) => string.Join(' ', Enumerable.Repeat($"Hello, {name}!", Math.Clamp(times, 1, 10))),
    new FunctionOptions { WebEndpoint = new WebEndpoint() });

// POST / with {"a": 2, "b": 3} → {"a":2,"b":3,"result":5}
app.Function("add", (int a, int b) => new Sum(a, b, a + b),
    new FunctionOptions { WebEndpoint = new WebEndpoint { Methods = ["POST"] } });

// GET /?seconds=200 outlives the ingress's wait (150 s by default): the client is sent (303) to a URL that answers
// the result once it is ready.
app.Function("slow", async (int seconds) =>
{
    await Task.Delay(TimeSpan.FromSeconds(seconds));
    return $"slept {seconds} s";
}, new FunctionOptions { WebEndpoint = new WebEndpoint(), Timeout = TimeSpan.FromMinutes(10) });

// Fails on its first two attempts for a key, then succeeds: the request is retried like any call and the client sees
// only the success. The attempts are counted in a Dict, since a retry may run in another container.
app.Function("flaky", async (string key) =>
{
    var attempts = Dict.FromName(app.Client, "example-web-endpoint-attempts", createIfMissing: true);
    var attempt = await attempts.GetAsync(key, 0) + 1;
    await attempts.PutAsync(key, attempt);
    return attempt <= 2 ? throw new InvalidOperationException($"attempt {attempt} for '{key}' fails") : $"'{key}' succeeded on attempt {attempt}";
}, new FunctionOptions
{
    WebEndpoint = new WebEndpoint(),
    Retries = new Retries(2, backoffCoefficient: 1.0, initialDelay: TimeSpan.FromMilliseconds(200)),
});

// POST / with {"name": "widget"} → 201, a Location header and a plain-text body, as the function chose.
app.Function("create", (string name) => new WebResponse(201, $"created {name}", Headers: new Dictionary<string, string>
{
    ["Location"] = $"/items/{Uri.EscapeDataString(name)}",
    ["X-Example"] = "web-endpoint",
}), new FunctionOptions { WebEndpoint = new WebEndpoint { Methods = ["POST"], Label = "create-item" } });

app.LocalEntrypoint(() =>
{
    Console.WriteLine("These functions are web endpoints: deploy the app (`modal deploy examples/WebEndpoint`) and call them");
    Console.WriteLine("over HTTP, e.g. curl 'http://{workspace}--example-web-endpoint-greet.localhost:5000/?name=Ada&times=2'");
    Console.WriteLine("(`modal deploy` prints each endpoint's URL).");
    return Task.CompletedTask;
});

return await app.RunAsync(args);

namespace WebEndpointExample
{
/// <summary>The answer of "add", written as JSON.</summary>
public sealed record Sum(int A, int B, int Result);
}
