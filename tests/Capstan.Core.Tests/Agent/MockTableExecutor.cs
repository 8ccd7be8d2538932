namespace Capstan.Core.Tests.Agent;

using Capstan.Core.Agent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;

/// <summary>
/// The mock table executor of spec §12 (TiCDC's agent tests depend on its exact behaviour): a map
/// from span to state, with configurable results for the calls that would wait on real work.
/// With its defaults it is exactly that mock; the optional knobs (faults, checkpoints, stats,
/// refusing checkpoint 0) are off unless a test turns them on.
/// </summary>
internal sealed class MockTableExecutor : ITableExecutor
{
    private readonly Dictionary<Span, TableState> _tables = [];

    /// <summary>Result of AddTableSpan for a span it does not hold (true → Preparing).</summary>
    public bool AddResult { get; set; }

    /// <summary>Result of IsAddTableSpanFinished.</summary>
    public bool AddFinishedResult { get; set; }

    /// <summary>Result of RemoveTableSpan for a span that is not stopping (true → Stopped).</summary>
    public bool RemoveResult { get; set; }

    /// <summary>Result of IsRemoveTableSpanFinished for a span it holds (true → deleted).</summary>
    public bool RemoveFinishedResult { get; set; }

    /// <summary>Checkpoint ts returned by IsRemoveTableSpanFinished for a span it holds.</summary>
    public Ts RemoveCheckpointTs { get; set; }

    /// <summary>Called at the start of every method with its name; a returned exception is thrown.</summary>
    public Func<string, Span, Exception?>? Fault { get; set; }

    /// <summary>Like the processor: AddTableSpan with checkpoint ts 0 throws <see cref="TableExecutorException"/>.</summary>
    public bool RefuseZeroCheckpoint { get; set; }

    /// <summary>When set, statuses of held spans carry this checkpoint (the §12 mock reports none).</summary>
    public Checkpoint? ReportedCheckpoint { get; set; }

    /// <summary>When set, statuses asked with collectStats carry these stats.</summary>
    public Stats? ReportedStats { get; set; }

    /// <summary>Number of GetTableSpanStatus calls.</summary>
    public int StatusCalls { get; private set; }

    /// <summary>Spans GetTableSpanStatus was asked about, when <see cref="RecordStatusQueries"/> is set.</summary>
    public HashSet<Span> StatusQueries { get; } = [];

    /// <summary>Record the spans passed to GetTableSpanStatus.</summary>
    public bool RecordStatusQueries { get; set; }

    /// <summary>Number of spans held.</summary>
    public int Count => _tables.Count;

    /// <summary>Puts a span in a state directly (the edge a test may fake).</summary>
    public void SetState(Span span, TableState state) => _tables[span] = state;

    /// <summary>The state of a span (Absent when not held).</summary>
    public TableState StateOf(Span span) => _tables.TryGetValue(span, out TableState state) ? state : TableState.Absent;

    public bool AddTableSpan(Span span, Checkpoint checkpoint, bool isPrepare)
    {
        ThrowIfFaulted(nameof(AddTableSpan), span);
        if (RefuseZeroCheckpoint && checkpoint.CheckpointTs == Ts.Zero)
        {
            throw new TableExecutorException(span, "start ts must not be 0");
        }

        if (_tables.TryGetValue(span, out TableState state))
        {
            switch (state)
            {
                case TableState.Preparing:
                case TableState.Replicating:
                    return true;
                case TableState.Prepared:
                    if (!isPrepare)
                    {
                        _tables[span] = TableState.Replicating;
                    }

                    return true;
                case TableState.Stopped:
                    _tables.Remove(span);
                    break;
            }
        }

        if (AddResult)
        {
            _tables[span] = TableState.Preparing;
        }

        return AddResult;
    }

    public bool IsAddTableSpanFinished(Span span, bool isPrepare)
    {
        ThrowIfFaulted(nameof(IsAddTableSpanFinished), span);
        if (!_tables.ContainsKey(span))
        {
            throw new InvalidOperationException($"mock: IsAddTableSpanFinished for {span}, which was never added");
        }

        if (AddFinishedResult)
        {
            _tables[span] = isPrepare ? TableState.Prepared : TableState.Replicating;
            return true;
        }

        _tables[span] = isPrepare ? TableState.Preparing : TableState.Prepared;
        return false;
    }

    public bool RemoveTableSpan(Span span)
    {
        ThrowIfFaulted(nameof(RemoveTableSpan), span);
        if (!_tables.TryGetValue(span, out TableState state) || state is TableState.Stopping or TableState.Stopped)
        {
            return true;
        }

        if (RemoveResult)
        {
            _tables[span] = TableState.Stopped;
        }

        return RemoveResult;
    }

    public bool IsRemoveTableSpanFinished(Span span, out Ts checkpointTs)
    {
        ThrowIfFaulted(nameof(IsRemoveTableSpanFinished), span);
        if (!_tables.ContainsKey(span))
        {
            checkpointTs = Ts.Zero;
            return true;
        }

        checkpointTs = RemoveCheckpointTs;
        if (RemoveFinishedResult)
        {
            _tables.Remove(span);
        }
        else
        {
            // TiCDC's mock assumes the span was replicating and puts it back there.
            _tables[span] = TableState.Replicating;
        }

        return RemoveFinishedResult;
    }

    public TableStatus GetTableSpanStatus(Span span, bool collectStats)
    {
        ThrowIfFaulted(nameof(GetTableSpanStatus), span);
        StatusCalls++;
        if (RecordStatusQueries)
        {
            StatusQueries.Add(span);
        }

        if (!_tables.TryGetValue(span, out TableState state))
        {
            return new TableStatus(span, TableState.Absent, default);
        }

        return new TableStatus(span, state, ReportedCheckpoint ?? default, collectStats ? ReportedStats : null);
    }

    private void ThrowIfFaulted(string method, Span span)
    {
        if (Fault?.Invoke(method, span) is { } error)
        {
            throw error;
        }
    }
}
