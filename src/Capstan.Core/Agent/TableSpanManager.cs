namespace Capstan.Core.Agent;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;

/// <summary>
/// The spans an agent tracks, in span order, and the poll that drives their tasks (spec §5.7).
/// A span is tracked from the add request that names it until the executor reports it Absent.
/// </summary>
/// <remarks>
/// <para>
/// <b>Kept stops.</b> A span whose remove finished (Stopped, final checkpoint) leaves the tracked
/// map but is kept as a <see cref="StoppedSpan"/>, and every heartbeat response that does not list
/// it carries its final checkpoint (state Unknown), until the owner has certainly taken it into
/// account. Without this, an owner that dies before reading the Stopped report leaves a successor
/// that rebuilds the move from the target's Prepared report alone and starts the target below what
/// the source already sank (a double sink; TiCDC has the same window). A successor's rebuild (spec
/// §3.5) folds every reported checkpoint into the set, so the target is committed at the source's
/// final checkpoint. State Unknown rather than Stopped: a live set ignores an Unknown report from
/// any reporter (§3.6), whereas a Stopped report that reached the owner after it had given this
/// capture a new role for the span would be read as "the new secondary stopped" (§3.7).
/// </para>
/// <para>
/// A kept stop is forgotten when, at a heartbeat of the current owner that does not list it,
/// <list type="bullet">
/// <item>the heartbeat lists any span: the owner has built its sets, from reports that carried
/// the kept stop (a coordinator lists nothing before it is initialised, and until a rebuild every
/// response carries it; its capture manager keeps only the latest one); or</item>
/// <item>this same owner revision had listed the span (or sent a request for it) before: it
/// considered this capture a holder and no longer does, so it has read the stop;</item>
/// </list>
/// or when the span is added to this capture again. Listed, a kept stop is reported Absent, as any
/// listed untracked span. Kept stops are therefore bounded by the spans this capture held at the
/// last owner change plus those stopped since; a new incarnation (processor epoch) starts empty.
/// </para>
/// </remarks>
internal sealed class TableSpanManager
{
    private readonly SpanMap<TrackedSpan> _spans = new();
    private readonly SpanMap<StoppedSpan> _stopped = new();
    private readonly GuardedExecutor _executor;

    /// <summary>Kept stops forgotten by the heartbeat being answered (reused).</summary>
    private readonly List<Span> _forgotten = [];

    /// <summary>Heartbeats answered so far; numbers the listings of kept stops.</summary>
    private long _heartbeats;

    /// <summary>The current poll pass (one per tick): heartbeat reads of this pass stand for the poll's state read.</summary>
    private long _pass = 1;

    /// <summary>
    /// The pass in which a heartbeat last read every tracked span and found none with a task and
    /// none Absent, with no task injected since: the poll of that pass has nothing to do.
    /// </summary>
    private long _quietPass;

    /// <summary>Positions of the listed but untracked spans of the heartbeat being answered (reused).</summary>
    private readonly List<int> _untrackedListed = [];

    public TableSpanManager(GuardedExecutor executor)
    {
        _executor = executor;
    }

    public int Count => _spans.Count;

    /// <summary>Number of kept stops (stopped spans still reported for a rebuild).</summary>
    public int StoppedCount => _stopped.Count;

    public bool TryGet(Span span, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TrackedSpan tracked) =>
        _spans.TryGetValue(span, out tracked);

    /// <summary>The tracked entry for a span, created in state Absent if new (forgetting its kept stop).</summary>
    public TrackedSpan GetOrAdd(Span span)
    {
        if (!_spans.TryGetValue(span, out TrackedSpan? tracked))
        {
            tracked = new TrackedSpan(span);
            _spans.Set(span, tracked);
            if (_stopped.Count != 0)
            {
                _stopped.Remove(span);
            }
        }

        return tracked;
    }

    /// <summary>Attaches a task to a tracked span (see <see cref="TrackedSpan.TryInject"/>); the next poll then visits every span.</summary>
    public bool TryInject(TrackedSpan tracked, DispatchTask task)
    {
        _quietPass = 0;
        return tracked.TryInject(task);
    }

    /// <summary>A remove request for an untracked span: if it is a kept stop, its sender still considers this capture a holder.</summary>
    public void ClaimStopped(Span span, OwnerRevision revision)
    {
        if (_stopped.Count != 0 && _stopped.TryGetValue(span, out StoppedSpan? stopped))
        {
            stopped.Claim(revision);
        }
    }

    /// <summary>
    /// For each tracked span in span order: run its task (collecting at most one response), then
    /// re-read its state and stop tracking it if it is Absent (its task, if any, goes with it; the
    /// owner resends). Go drops after the loop and re-reads the state once more; dropping right
    /// after the re-read is the same decision without a second executor call. A span without a
    /// task whose state a heartbeat of this tick has just read is not asked again: nothing called
    /// the executor for it in between (one status read per span per tick instead of two); only a
    /// failed read (Unknown) is retried, as before.
    /// </summary>
    public void Poll(List<DispatchTableResponse> responses)
    {
        long pass = _pass++;
        if (_quietPass == pass)
        {
            return; // every span was just read by a heartbeat: no task to run, nothing to drop
        }

        foreach (ref readonly KeyValuePair<Span, TrackedSpan> entry in _spans.Ordered())
        {
            TrackedSpan tracked = entry.Value;
            TableState state;
            if (tracked.HasTask)
            {
                if (tracked.Poll(_executor) is { } response)
                {
                    responses.Add(response);
                }

                state = tracked.Refresh(_executor);
            }
            else
            {
                state = tracked.ObservedInPass == pass && tracked.State != TableState.Unknown ? tracked.State : tracked.Refresh(_executor);
            }

            if (state == TableState.Absent)
            {
                _spans.Remove(entry.Key);
                if (tracked.FinalStatus is { } final)
                {
                    _stopped.Set(entry.Key, new StoppedSpan(final, tracked.ClaimedBy));
                }
            }
        }
    }

    /// <summary>
    /// The statuses for a heartbeat response of the owner of <paramref name="revision"/> (spec
    /// §5.5), in one array: every tracked span in span order (the executor's status, or Stopping
    /// while a remove is pending), then every listed span that is not tracked, as Absent without
    /// consulting the executor, then every kept stop that is not listed and not forgotten now.
    /// Up to <see cref="StatusList.ChunkSize"/> statuses come in an array, more in a <see cref="StatusList"/>.
    /// </summary>
    public IReadOnlyList<TableStatus> BuildHeartbeatStatuses(IReadOnlyList<Span> listed, bool collectStats, OwnerRevision revision)
    {
        _heartbeats++;
        CollectUntrackedListed(listed, revision);
        int kept = _stopped.Count == 0 ? 0 : ForgetAcknowledgedStops(listed.Count != 0, revision);
        ReadOnlySpan<KeyValuePair<Span, TrackedSpan>> ordered = _spans.Ordered();
        if (ordered.Length + _untrackedListed.Count + kept == 0)
        {
            return [];
        }

        StatusList.Writer writer = StatusList.Allocate(ordered.Length + _untrackedListed.Count + kept, out IReadOnlyList<TableStatus> statuses);
        bool quiet = true;
        foreach (ref readonly KeyValuePair<Span, TrackedSpan> entry in ordered)
        {
            TrackedSpan tracked = entry.Value;
            ref TableStatus slot = ref writer.Next();
            TableState state = _executor.ReadTableSpanStatus(entry.Key, collectStats, out slot);
            tracked.Observe(state, _pass);
            if (tracked.HasTask)
            {
                quiet = false;
                if (tracked.HasRemoveTask)
                {
                    slot = slot with { State = TableState.Stopping };
                }
            }
            else if (state is TableState.Absent or TableState.Unknown)
            {
                quiet = false;
            }
        }

        _quietPass = quiet ? _pass : 0;

        foreach (int index in _untrackedListed)
        {
            writer.Add(new TableStatus(listed[index], TableState.Absent, default));
        }

        if (kept != 0)
        {
            foreach (ref readonly KeyValuePair<Span, StoppedSpan> entry in _stopped.Ordered())
            {
                if (entry.Value.ListedBy != _heartbeats)
                {
                    writer.Add(entry.Value.Report);
                }
            }
        }

        return statuses;
    }

    /// <summary>
    /// Notes the positions of the listed spans that are not tracked, and that the owner claims the
    /// listed tracked spans and kept stops.
    /// </summary>
    private void CollectUntrackedListed(IReadOnlyList<Span> listed, OwnerRevision revision)
    {
        _untrackedListed.Clear();
        var cursor = default(SpanMapCursor); // the owner lists spans in span order
        var stoppedCursor = default(SpanMapCursor);
        for (int index = 0; index < listed.Count; index++)
        {
            if (_spans.TryGetValue(listed[index], ref cursor, out TrackedSpan? tracked))
            {
                tracked.Claim(revision);
                continue;
            }

            _untrackedListed.Add(index);
            if (_stopped.Count != 0 && _stopped.TryGetValue(listed[index], ref stoppedCursor, out StoppedSpan? stopped))
            {
                stopped.MarkListed(revision, _heartbeats);
            }
        }
    }

    /// <summary>
    /// Forgets the kept stops the owner has certainly taken into account (see the remarks);
    /// returns how many of the others this heartbeat does not list (they are reported).
    /// </summary>
    private int ForgetAcknowledgedStops(bool listsAny, OwnerRevision revision)
    {
        int reported = 0;
        foreach (ref readonly KeyValuePair<Span, StoppedSpan> entry in _stopped.Ordered())
        {
            StoppedSpan stopped = entry.Value;
            if (stopped.ListedBy == _heartbeats)
            {
                continue;
            }

            if (listsAny || stopped.ClaimedBy == revision)
            {
                _forgotten.Add(entry.Key);
            }
            else
            {
                reported++;
            }
        }

        foreach (Span span in _forgotten)
        {
            _stopped.Remove(span);
        }

        _forgotten.Clear();
        return reported;
    }

    /// <summary>
    /// After a poll, every tracked entry is keyed by its own span and no tracked span is Absent;
    /// every kept stop is keyed by its own span, is Stopped, and is not tracked.
    /// </summary>
    public void AssertInvariants()
    {
        foreach (ref readonly KeyValuePair<Span, TrackedSpan> entry in _spans.Ordered())
        {
            if (entry.Key != entry.Value.Span || entry.Value.State == TableState.Absent)
            {
                throw new InvalidOperationException($"agent span table inconsistent at key {entry.Key}: {entry.Value}");
            }
        }

        foreach (ref readonly KeyValuePair<Span, StoppedSpan> entry in _stopped.Ordered())
        {
            if (entry.Key != entry.Value.FinalStatus.Span || entry.Value.FinalStatus.State != TableState.Stopped || _spans.ContainsKey(entry.Key))
            {
                throw new InvalidOperationException($"agent kept stop inconsistent at key {entry.Key}: {entry.Value}");
            }
        }
    }
}
