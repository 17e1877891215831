using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// Everything a service lets out that an operator could read: every log record at every level (ILogger), every span
/// its OpenTelemetry pipeline exports (names, tags, events, status), and every message it sends or publishes on the bus
/// (body and headers, as JSON). <see cref="Register"/> adds the recorder to one service under test.
/// </summary>
public sealed class LeakRecorder
{
    private readonly List<Activity> _spans = [];

    public ConcurrentQueue<string> Logs { get; } = new();

    public ConcurrentQueue<string> BusMessages { get; } = new();

    /// <summary>What the services exported, one line per span (with its tags, events and status).</summary>
    public IReadOnlyList<string> Spans()
    {
        lock (_spans)
        {
            return _spans.Select(Describe).ToList();
        }
    }

    /// <summary>Adds the recorder to a service's container (use from <see cref="ServiceFactory{T}.ConfigureServices"/>).</summary>
    public void Register(IServiceCollection services)
    {
        services.AddSingleton<ILoggerProvider>(new CapturingLoggerProvider(Logs));
        // ServiceFactory keeps test output to errors; this provider alone sees everything, down to Trace.
        services.Configure<LoggerFilterOptions>(filters =>
            filters.Rules.Add(new LoggerFilterRule(typeof(CapturingLoggerProvider).FullName, null, LogLevel.Trace, null)));
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(new LockedList(_spans)));
        var observer = new BusRecorder(BusMessages);
        services.AddSendObserver(_ => observer);
        services.AddPublishObserver(_ => observer);
    }

    private static string Describe(Activity span)
    {
        var text = new StringBuilder(span.Source.Name).Append(' ').Append(span.DisplayName).Append(' ').Append(span.StatusDescription);
        foreach (var (key, value) in span.TagObjects)
        {
            text.Append(' ').Append(key).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture));
        }
        foreach (var spanEvent in span.Events)
        {
            text.Append(" event ").Append(spanEvent.Name);
            foreach (var (key, value) in spanEvent.Tags)
            {
                text.Append(' ').Append(key).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture));
            }
        }
        foreach (var (key, value) in span.Baggage)
        {
            text.Append(" baggage ").Append(key).Append('=').Append(value);
        }
        return text.ToString();
    }

    /// <summary>The exporter adds from the exporting thread while a test reads.</summary>
    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, lines);

        public void Dispose()
        {
        }
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            lines.Enqueue($"{category} scope {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = new StringBuilder($"{logLevel} {category} {formatter(state, exception)}");
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    text.Append(' ').Append(key).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                }
            }
            if (exception is not null)
            {
                text.Append(' ').Append(exception);
            }
            lines.Enqueue(text.ToString());
        }
    }

    private sealed class BusRecorder(ConcurrentQueue<string> messages) : ISendObserver, IPublishObserver
    {
        public Task PreSend<T>(SendContext<T> context) where T : class => Record(context);
        public Task PostSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;
        public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class => Task.CompletedTask;
        public Task PrePublish<T>(PublishContext<T> context) where T : class => Record(context);
        public Task PostPublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;
        public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;

        private Task Record<T>(SendContext<T> context) where T : class
        {
            var headers = string.Join(' ', context.Headers.GetAll().Select(h => $"{h.Key}={h.Value}"));
            messages.Enqueue($"{typeof(T).FullName} {JsonSerializer.Serialize(context.Message)} {headers}");
            return Task.CompletedTask;
        }
    }
}
