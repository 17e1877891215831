// Secrets: environment variables the platform stores encrypted and injects into a function's containers.
// Create the named secret first, then run or deploy the app:
//   modal secret create example-greeting GREETING=hello
//   modal run examples/Secrets
using System.Security.Cryptography;
using System.Text;
using Modal;

var app = new App("example-secrets");

var greet = app.Function("greet", (string name) =>
        $"{Environment.GetEnvironmentVariable("GREETING")}, {name}{Environment.GetEnvironmentVariable("PUNCTUATION")}",
    new FunctionOptions
    {
        Secrets =
        [
            // Deploying fails, naming the key, if the secret lacks GREETING: no container ever starts without it.
            Secret.FromName("example-greeting", requiredKeys: ["GREETING"]),
            // Defined here, on the deploying machine: the deploy stores it as the secret "example-secrets.greet.1".
            Secret.FromDictionary(new Dictionary<string, string?> { ["PUNCTUATION"] = "!" }),
        ],
    });

// Proves a value arrived without returning it: the SHA-256 of the variable (null when it is not set).
app.Function("fingerprint", (string variable) => Environment.GetEnvironmentVariable(variable) is { } value
        ? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))
        : null,
    new FunctionOptions { Secrets = [Secret.FromName("example-greeting", requiredKeys: ["GREETING"])] });

app.LocalEntrypoint(async () => Console.WriteLine(await greet.RemoteAsync("world")));

return await app.RunAsync(args);
