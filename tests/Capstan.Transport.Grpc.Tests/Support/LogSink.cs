namespace Capstan.Transport.Grpc.Tests.Support;

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

/// <summary>Records log lines of the Capstan categories.</summary>
public sealed class LogSink : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public bool Contains(LogLevel level, string fragment) =>
        Lines.Any(line => line.Level == level && line.Message.Contains(fragment, StringComparison.Ordinal));

    public void Dispose()
    {
    }

    private sealed class Logger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => category.StartsWith("Capstan", StringComparison.Ordinal) && logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                sink.Lines.Enqueue((logLevel, category, formatter(state, exception)));
            }
        }
    }
}
