namespace Capstan.Core.Agent;

using Capstan.Core.Protocol;
using Capstan.Core.Spans;

/// <summary>
/// The spans an agent tracks, in span order, and the poll that drives their tasks (spec §5.7).
/// A span is tracked from the add request that names it until the executor reports it Absent.
/// </summary>
internal sealed class TableSpanManager
{
    private readonly SpanMap<TrackedSpan> _spans = new();
    private readonly GuardedExecutor _executor;

    /// <summary>Positions of the listed but untracked spans of the heartbeat being answered (reused).</summary>
    private readonly List<int> _untrackedListed = [];

    public TableSpanManager(GuardedExecutor executor)
    {
        _executor = executor;
    }

    public int Count => _spans.Count;

    public bool TryGet(Span span, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TrackedSpan tracked) =>
        _spans.TryGetValue(span, out tracked);

    /// <summary>The tracked entry for a span, created in state Absent if new.</summary>
    public TrackedSpan GetOrAdd(Span span)
    {
        if (!_spans.TryGetValue(span, out TrackedSpan? tracked))
        {
            tracked = new TrackedSpan(span);
            _spans.Set(span, tracked);
        }

        return tracked;
    }

    /// <summary>
    /// For each tracked span in span order: run its task (collecting at most one response), then
    /// re-read its state and stop tracking it if it is Absent (its task, if any, goes with it; the
    /// owner resends). Go drops after the loop and re-reads the state once more; dropping right
    /// after the re-read is the same decision without a second executor call.
    /// </summary>
    public void Poll(List<DispatchTableResponse> responses)
    {
        foreach (ref readonly KeyValuePair<Span, TrackedSpan> entry in _spans.Ordered())
        {
            TrackedSpan tracked = entry.Value;
            if (tracked.HasTask && tracked.Poll(_executor) is { } response)
            {
                responses.Add(response);
            }

            if (tracked.Refresh(_executor) == TableState.Absent)
            {
                _spans.Remove(entry.Key);
            }
        }
    }

    /// <summary>
    /// The statuses for a heartbeat response (spec §5.5), in one array: every tracked span in span
    /// order (the executor's status, or Stopping while a remove is pending), then every listed span
    /// that is not tracked, as Absent without consulting the executor.
    /// </summary>
    public TableStatus[] BuildHeartbeatStatuses(IReadOnlyList<Span> listed, bool collectStats)
    {
        _untrackedListed.Clear();
        ReadOnlySpan<KeyValuePair<Span, TrackedSpan>> ordered = _spans.Ordered();
        var cursor = default(SpanMapCursor); // the owner lists spans in span order
        for (int index = 0; index < listed.Count; index++)
        {
            if (!_spans.TryGetValue(listed[index], ref cursor, out _))
            {
                _untrackedListed.Add(index);
            }
        }

        if (ordered.Length + _untrackedListed.Count == 0)
        {
            return [];
        }

        var statuses = new TableStatus[ordered.Length + _untrackedListed.Count];
        int written = 0;
        foreach (ref readonly KeyValuePair<Span, TrackedSpan> entry in ordered)
        {
            TableStatus status = _executor.GetTableSpanStatus(entry.Key, collectStats);
            statuses[written++] = entry.Value.HasRemoveTask ? status with { State = TableState.Stopping } : status;
        }

        foreach (int index in _untrackedListed)
        {
            statuses[written++] = new TableStatus(listed[index], TableState.Absent, default);
        }

        return statuses;
    }

    /// <summary>After a poll, every tracked entry is keyed by its own span and no tracked span is Absent.</summary>
    public void AssertInvariants()
    {
        foreach (ref readonly KeyValuePair<Span, TrackedSpan> entry in _spans.Ordered())
        {
            if (entry.Key != entry.Value.Span || entry.Value.State == TableState.Absent)
            {
                throw new InvalidOperationException($"agent span table inconsistent at key {entry.Key}: {entry.Value}");
            }
        }
    }
}
