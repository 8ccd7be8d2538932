namespace Capstan.Core.Agent;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;

/// <summary>
/// The agent's only door to the <see cref="ITableExecutor"/>: every call is wrapped so that an
/// exception, or an answer outside the contract, is counted and turned into the safe answer
/// ("not done", or state Unknown) instead of escaping into the agent.
/// </summary>
/// <remarks>
/// State Unknown is the protocol's "no information": the coordinator ignores such reports in
/// every set state (spec §3.6), and the agent neither drops nor advances a span whose state is
/// Unknown; it simply retries next tick.
/// </remarks>
internal sealed class GuardedExecutor
{
    private readonly ITableExecutor _executor;
    private readonly AgentCounterSet _counters;

    public GuardedExecutor(ITableExecutor executor, AgentCounterSet counters)
    {
        _executor = executor;
        _counters = counters;
    }

    /// <summary>The most recent exception the executor threw, for the host to log; null if none.</summary>
    public Exception? LastError { get; private set; }

    public bool AddTableSpan(Span span, Checkpoint checkpoint, bool isPrepare)
    {
        try
        {
            return _executor.AddTableSpan(span, checkpoint, isPrepare);
        }
        catch (Exception error)
        {
            RecordError(error);
            return false;
        }
    }

    public bool IsAddTableSpanFinished(Span span, bool isPrepare)
    {
        try
        {
            return _executor.IsAddTableSpanFinished(span, isPrepare);
        }
        catch (Exception error)
        {
            RecordError(error);
            return false;
        }
    }

    public bool RemoveTableSpan(Span span)
    {
        try
        {
            return _executor.RemoveTableSpan(span);
        }
        catch (Exception error)
        {
            RecordError(error);
            return false;
        }
    }

    public bool IsRemoveTableSpanFinished(Span span, out Ts checkpointTs)
    {
        try
        {
            return _executor.IsRemoveTableSpanFinished(span, out checkpointTs);
        }
        catch (Exception error)
        {
            RecordError(error);
            checkpointTs = Ts.Zero;
            return false;
        }
    }

    /// <summary>
    /// The span's status, always for <paramref name="span"/> (whatever span the executor echoes),
    /// without stats unless asked, and with state Unknown when the executor failed or answered a
    /// state outside Absent..Stopped.
    /// </summary>
    public TableStatus GetTableSpanStatus(Span span, bool collectStats)
    {
        ReadTableSpanStatus(span, collectStats, out TableStatus status);
        return status;
    }

    /// <summary>
    /// <see cref="GetTableSpanStatus"/> written straight into <paramref name="status"/> (e.g. a slot
    /// of a response being built, saving a copy per span); returns the state.
    /// </summary>
    public TableState ReadTableSpanStatus(Span span, bool collectStats, out TableStatus status)
    {
        try
        {
            status = _executor.GetTableSpanStatus(span, collectStats);
        }
        catch (Exception error)
        {
            RecordError(error);
            status = new TableStatus(span, TableState.Unknown, default);
            return TableState.Unknown;
        }

        TableState state = status.State;
        if (state is < TableState.Absent or > TableState.Stopped)
        {
            RecordContractViolation();
            state = TableState.Unknown;
        }
        else if ((collectStats || status.Stats is null) && status.Span.Equals(span))
        {
            return state; // already what the agent reports (the usual case): no second write
        }

        status = new TableStatus(span, state, status.Checkpoint, collectStats ? status.Stats : null);
        return state;
    }

    /// <summary>Counts an executor answer that breaks the contract without an exception.</summary>
    public void RecordContractViolation() => _counters.ExecutorErrors++;

    private void RecordError(Exception error)
    {
        _counters.ExecutorErrors++;
        LastError = error;
    }
}
