// Modal's classes in C#: load something expensive once per container in [Enter], call methods remotely on that
// warm instance, clean up in [Exit]. Run it with `modal run examples/Classes`.
using Modal;
using ClassesExample;

var app = new App("example-classes");

var model = app.Cls<Model>(new FunctionOptions { Timeout = TimeSpan.FromMinutes(1) });

app.LocalEntrypoint(async () =>
{
    Console.WriteLine(await model.RemoteAsync(m => m.Generate("hello")));
    Console.WriteLine(await model.RemoteAsync(m => m.CountTokensAsync("the quick brown fox")));
});

return await app.RunAsync(args);

namespace ClassesExample
{
/// <summary>A stand-in for a model: "loads its weights" once per container, then serves calls from memory.</summary>
public sealed class Model
{
    private readonly string _instanceId = Guid.NewGuid().ToString("N");
    private string _weights = "";
    private int _entered;

    [Enter]
    public async Task LoadAsync()
    {
        await Task.Delay(100); // Loading weights, in a real model.
        _weights = "weights-v1";
        _entered++;
        Console.WriteLine($"model {_instanceId} loaded");
    }

    [Method]
    public string Generate(string prompt) => $"{prompt} → generated with {_weights}";

    [Method]
    public async Task<int> CountTokensAsync(string text)
    {
        await Task.Yield();
        return _weights.Length == 0 ? throw new InvalidOperationException("Not loaded.") : text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    /// <summary>Which instance served the call and how often it was entered: every method shares one, entered once.</summary>
    [Method]
    public string Describe() => $"{_instanceId}:{_entered}";

    [Exit]
    public void Unload()
    {
        Console.WriteLine($"model {_instanceId} unloaded");
        // Lets the platform's tests see that [Exit] ran: they name a folder for the marker.
        if (Environment.GetEnvironmentVariable("MODAL_EXAMPLE_MARKERS") is { Length: > 0 } markers)
        {
            File.WriteAllText(Path.Combine(markers, $"exit-{_instanceId}"), "unloaded");
        }
    }
}
}
