using System.Text.Json;

namespace Modal.Platform.Tests.Unit;

public sealed class SecretTests
{
    [Fact]
    public void Describe_LocalSecrets_AreNamedPerFunctionAndKeptOutOfTheFunctions()
    {
        var dotEnv = Path.GetTempFileName();
        File.WriteAllLines(dotEnv, ["# comment", "export A=1", "B=\"two words\"", "C='3' ", "D=4 # trailing", "", "not a pair"]);
        var app = new App("secret-app");
        app.Function("f", () => 1, new FunctionOptions
        {
            Secrets = [Secret.FromName("named", ["X"]), Secret.FromDictionary(new Dictionary<string, string?> { ["K"] = "local-value", ["GONE"] = null }), Secret.FromDotEnv(dotEnv)],
        });

        var manifest = app.Describe();

        var secrets = manifest.Functions.Single().Secrets;
        Assert.Equal(["named", "secret-app.f.1", "secret-app.f.2"], secrets.Select(s => s.Name));
        Assert.Equal(["X"], secrets[0].RequiredKeys);
        Assert.Equal(["K"], secrets[1].RequiredKeys);
        Assert.Equal(new Dictionary<string, string> { ["K"] = "local-value" }, manifest.LocalSecrets!["secret-app.f.1"]);
        Assert.Equal(new Dictionary<string, string> { ["A"] = "1", ["B"] = "two words", ["C"] = "3", ["D"] = "4" }, manifest.LocalSecrets["secret-app.f.2"]);
        Assert.DoesNotContain("local-value", JsonSerializer.Serialize(manifest.Functions, App.SerializerOptions), StringComparison.Ordinal);
        File.Delete(dotEnv);
    }

    [Fact]
    public void Describe_LocalEnvironmentVariableNotSet_FailsNamingIt()
    {
        var variable = $"MODAL_TEST_UNSET_{Guid.NewGuid():N}";
        var app = new App("secret-app");
        app.Function("f", () => 1, new FunctionOptions { Secrets = [Secret.FromLocalEnvironment([variable])] });

        var error = Assert.Throws<InvalidOperationException>(() => app.Describe());

        Assert.Contains(variable, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LocalSecretName_TooLong_IsAStableValidHash()
    {
        var name = Secret.LocalSecretName(new string('a', 64), new string('b', 64), 0);

        Assert.Equal(name, Secret.LocalSecretName(new string('a', 64), new string('b', 64), 0));
        Assert.Matches("^local-[0-9a-f]{32}$", name);
    }
}
