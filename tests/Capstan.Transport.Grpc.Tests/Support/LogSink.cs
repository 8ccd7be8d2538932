namespace Capstan.Transport.Grpc.Tests.Support;

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

/// <summary>Records log lines: Capstan's from Debug up, everything else (Kestrel, gRPC) from Warning up.</summary>
public sealed class LogSink : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public bool Contains(LogLevel level, string fragment) =>
        Lines.Any(line => line.Level == level && line.Message.Contains(fragment, StringComparison.Ordinal));

    /// <summary>Error lines from any category (an escaped exception would show here).</summary>
    public IReadOnlyList<string> Errors =>
        [.. Lines.Where(line => line.Level >= LogLevel.Error).Select(line => $"{line.Category}: {line.Message}")];

    public void Dispose()
    {
    }

    private sealed class Logger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) =>
            logLevel >= (category.StartsWith("Capstan", StringComparison.Ordinal) ? LogLevel.Debug : LogLevel.Warning);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                sink.Lines.Enqueue((logLevel, category, formatter(state, exception)));
            }
        }
    }
}
