namespace Capstan.Runtime.Tests.Support;

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

/// <summary>Writes log lines to the test output and keeps the errors, so tests can assert none happened.</summary>
public sealed class TestLogger(ITestOutputHelper output) : ILogger
{
    private readonly long _start = Environment.TickCount64;

    /// <summary>Error-level entries logged so far.</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    /// <inheritdoc/>
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc/>
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    /// <inheritdoc/>
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var line = $"{Environment.TickCount64 - _start,6} ms {logLevel}: {formatter(state, exception)}"
            + (exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})");
        if (logLevel >= LogLevel.Error)
        {
            Errors.Enqueue(line);
        }

        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test already finished; background loops may still log.
        }
    }

    /// <summary>Fails the test when anything was logged at Error level.</summary>
    public void AssertNoErrors() => Assert.True(Errors.IsEmpty, "errors were logged:\n" + string.Join("\n", Errors));
}
