namespace Capstan.Core.Agent;

using Capstan.Core.Spans;

/// <summary>A table executor refused a request (e.g. an add with checkpoint ts 0). The agent counts it and carries on.</summary>
public sealed class TableExecutorException : Exception
{
    /// <summary>Creates the error.</summary>
    public TableExecutorException(string message) : base(message)
    {
    }

    /// <summary>Creates the error with its cause.</summary>
    public TableExecutorException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the error for one span.</summary>
    public TableExecutorException(Span span, string message) : base($"span {span}: {message}")
    {
        Span = span;
    }

    /// <summary>The span concerned, when known.</summary>
    public Span? Span { get; }
}
