using System.Collections.Concurrent;
using MassTransit;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// Which of one service's receive endpoints are consuming. A bus that outlives its host keeps consuming the shared
/// durable queues (<c>api-call-results</c>, …) with a disposed service provider, faulting into <c>_error</c> the messages
/// later tests wait for; <see cref="ServiceFactory{TEntryPoint}"/> checks this after each stop so that such a test fails
/// where the leak is, not several classes later as a hang.
/// </summary>
public sealed class ReceiveEndpointWatch : IReceiveEndpointObserver
{
    private readonly ConcurrentDictionary<Uri, string> _consuming = new();

    /// <summary>The input addresses of the endpoints started and neither stopping nor completed.</summary>
    public IReadOnlyCollection<Uri> Consuming => [.. _consuming.Keys];

    public Task Ready(ReceiveEndpointReady ready)
    {
        // A runner's function queues (fn-{function id}) are connected and reconnected while its containers come and go,
        // also while the test stops the bus before the host (ahead of the runner's own stop). Their names are the
        // function's own, deployed by one test only, so one that outlives its bus takes no later test's messages.
        if (ready.InputAddress.AbsolutePath.TrimStart('/').StartsWith("fn-", StringComparison.Ordinal))
        {
            return Task.CompletedTask;
        }
        _consuming[ready.InputAddress] = "ready";
        return Task.CompletedTask;
    }

    // Told to stop is enough here: the leak this catches is an endpoint that started after its bus's stop and was never
    // told. (A runner's function queues, connected at run time, report Stopping but not always Completed.)
    public Task Stopping(ReceiveEndpointStopping stopping)
    {
        _consuming.TryRemove(stopping.InputAddress, out _);
        return Task.CompletedTask;
    }

    public Task Completed(ReceiveEndpointCompleted completed)
    {
        _consuming.TryRemove(completed.InputAddress, out _);
        return Task.CompletedTask;
    }

    public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;
}
