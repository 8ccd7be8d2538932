namespace Capstan.Core.Tests.Coordination;

using Capstan.Core.Agent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;

/// <summary>
/// A table executor standing in for a processor with a workload (the edge tests may fake): adds
/// and removes finish on the next poll, a Replicating span's checkpoint follows the cluster clock
/// (<see cref="Advance"/>) unless it is frozen, and collected stats report the span's write rate
/// from the workload function.
/// </summary>
internal sealed class WorkloadExecutor : ITableExecutor
{
    private readonly Dictionary<Span, (TableState State, Ts Checkpoint)> _spans = [];
    private readonly Func<Span, ulong> _writeRate;

    public WorkloadExecutor(Func<Span, ulong> writeRate)
    {
        _writeRate = writeRate;
    }

    /// <summary>Spans whose checkpoint does not advance (a slow sink).</summary>
    public HashSet<Span> Frozen { get; } = [];

    /// <summary>Spans held, in any state.</summary>
    public IEnumerable<Span> Spans => _spans.Keys;

    /// <summary>Spans in state Replicating.</summary>
    public IEnumerable<Span> ReplicatingSpans => _spans.Where(pair => pair.Value.State == TableState.Replicating).Select(pair => pair.Key);

    /// <summary>The checkpoint of a held span.</summary>
    public Ts CheckpointOf(Span span) => _spans[span].Checkpoint;

    /// <summary>Moves every Replicating, not frozen span's checkpoint up to <paramref name="now"/>.</summary>
    public void Advance(Ts now)
    {
        foreach (var span in _spans.Keys.ToList())
        {
            var (state, checkpoint) = _spans[span];
            if (state == TableState.Replicating && !Frozen.Contains(span) && checkpoint < now)
            {
                _spans[span] = (state, now);
            }
        }
    }

    public bool AddTableSpan(Span span, Checkpoint checkpoint, bool isPrepare)
    {
        if (_spans.TryGetValue(span, out var held))
        {
            switch (held.State)
            {
                case TableState.Preparing or TableState.Replicating:
                    return true;
                case TableState.Prepared:
                    if (!isPrepare)
                    {
                        _spans[span] = (TableState.Replicating, held.Checkpoint);
                    }

                    return true;
                case TableState.Stopping or TableState.Stopped:
                    _spans.Remove(span);
                    break;
            }
        }

        _spans[span] = (TableState.Preparing, checkpoint.CheckpointTs);
        return true;
    }

    public bool IsAddTableSpanFinished(Span span, bool isPrepare)
    {
        if (!_spans.TryGetValue(span, out var held))
        {
            return false;
        }

        var target = isPrepare ? TableState.Prepared : TableState.Replicating;
        if (held.State is TableState.Preparing or TableState.Prepared)
        {
            _spans[span] = (target, held.Checkpoint);
            return true;
        }

        return held.State == TableState.Replicating;
    }

    public bool RemoveTableSpan(Span span)
    {
        if (_spans.TryGetValue(span, out var held))
        {
            _spans[span] = (TableState.Stopped, held.Checkpoint);
        }

        return true;
    }

    public bool IsRemoveTableSpanFinished(Span span, out Ts checkpointTs)
    {
        checkpointTs = Ts.Zero;
        if (!_spans.TryGetValue(span, out var held))
        {
            return true;
        }

        if (held.State != TableState.Stopped)
        {
            return false;
        }

        checkpointTs = held.Checkpoint;
        _spans.Remove(span);
        return true;
    }

    public TableStatus GetTableSpanStatus(Span span, bool collectStats)
    {
        if (!_spans.TryGetValue(span, out var held))
        {
            return new TableStatus(span, TableState.Absent, default);
        }

        var checkpoint = new Checkpoint(held.Checkpoint, held.Checkpoint, Ts.Zero);
        // RegionCount 1 keeps the stats non-empty even at rate 0 (empty stats mean "keep the old ones").
        var stats = collectStats ? new Stats { RegionCount = 1, WriteKeysPerSecond = _writeRate(span) } : null;
        return new TableStatus(span, held.State, checkpoint, stats);
    }
}
