namespace Capstan.Core.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;

/// <summary>
/// Owns every replication set of a changefeed and the tasks in flight (spec §4). It feeds agents'
/// reports to the sets, carries out the schedulers' tasks (at most
/// <see cref="MaxTaskConcurrency"/> ordinary tasks at a time, at most one per span), handles
/// captures that appear (owner fail-over rebuild) or die, and computes the changefeed watermark.
/// </summary>
/// <remarks>
/// Departures from TiCDC (spec §13), each with a test named after the Go bug: capture-shutdown
/// errors propagate (#2); burst removes and moves of unknown spans are skipped (#4); the
/// concurrency check is "running ≥ max" (#5); sets nobody holds are deleted by a remove task, and
/// removed sets are deleted after capture shutdowns (#11, #37); watermark edge cases (#39, see
/// <see cref="AdvanceCheckpoint"/>).
/// </remarks>
public sealed partial class ReplicationManager
{
    private const string AddTableKind = "addTable";
    private const string RemoveTableKind = "removeTable";
    private const string MoveTableKind = "moveTable";
    private const string BurstBalanceKind = "burstBalance";

    /// <summary>Cumulative accepted-task counters per kind.</summary>
    private readonly Dictionary<string, long> _acceptedTaskCounts = new(StringComparer.Ordinal)
    {
        [AddTableKind] = 0,
        [RemoveTableKind] = 0,
        [MoveTableKind] = 0,
        [BurstBalanceKind] = 0,
    };

    /// <summary>Creates an empty manager.</summary>
    /// <param name="maxTaskConcurrency">Maximum ordinary (non-burst) tasks in flight; at least 1.</param>
    public ReplicationManager(int maxTaskConcurrency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTaskConcurrency, 1);
        MaxTaskConcurrency = maxTaskConcurrency;
    }

    /// <summary>Maximum ordinary tasks in flight.</summary>
    public int MaxTaskConcurrency { get; }

    /// <summary>Every replication set, by span. Callers must not modify it.</summary>
    public SpanMap<ReplicationSet> Spans { get; } = new();

    /// <summary>Spans with a task in flight (a burst item stands for its own running task). Callers must not modify it.</summary>
    public SpanMap<ScheduleTask> RunningTasks { get; } = new();

    /// <summary>
    /// Changes whenever a set changes state or a set is added or removed (a counter of such
    /// changes plus the map's key version); lets schedulers skip work that only such a change
    /// could make necessary.
    /// </summary>
    public long SetStateVersion => _stateChanges + Spans.KeyVersion;

    /// <summary>Changes of a set's state made through this manager.</summary>
    private long _stateChanges;

    /// <summary>
    /// Checkpoints of deleted sets, by span, until a new set for the span takes it or the
    /// changefeed checkpoint passes it (empty in a steady state; see <see cref="Delete"/>).
    /// </summary>
    private readonly Dictionary<Span, Ts> _deletedCheckpoints = [];

    /// <summary>Accepted tasks per kind (addTable, removeTable, moveTable, burstBalance), cumulative; burst items count as their kind too.</summary>
    public IReadOnlyDictionary<string, long> AcceptedTaskCounts => _acceptedTaskCounts;

    /// <summary>
    /// Feeds agents' dispatch and heartbeat responses to the sets; requests to send are appended
    /// to <paramref name="outbox"/>. Statuses of unknown spans are ignored; sets that finish
    /// removing are deleted. Allocation-free for statuses that need no request.
    /// </summary>
    /// <exception cref="ReplicationSetInconsistentException">A set rejected a report; the caller must discard the outbox.</exception>
    public void HandleMessages(IReadOnlyList<Message> messages, List<Message> outbox)
    {
        _ = Spans.Ordered(); // brings the order up to date for the hinted lookups of heartbeat statuses
        int index = 0;
        while (index < messages.Count)
        {
            var message = messages[index];
            if (message is { Type: MessageType.HeartbeatResponse, HeartbeatResponse: not null })
            {
                int end = index + 1;
                while (end < messages.Count && messages[end] is { Type: MessageType.HeartbeatResponse, HeartbeatResponse: not null })
                {
                    end++;
                }

                HandleHeartbeatResponses(messages, index, end, outbox);
                index = end;
                continue;
            }

            if (message is { Type: MessageType.DispatchTableResponse, DispatchTableResponse: { } response })
            {
                if (response.AddTable is { } added)
                {
                    HandleStatus(added.Status, message.From, outbox);
                }
                else if (response.RemoveTable is { } removed)
                {
                    HandleStatus(removed.Status, message.From, outbox);
                }
            }

            index++; // other messages are not for the replication manager
        }
    }

    private void HandleStatus(TableStatus status, CaptureId from, List<Message> outbox)
    {
        if (Spans.TryGetValue(status.Span, out var set))
        {
            Poll(set, status, from, outbox);
        }
    }

    /// <summary>Feeds a status to its set; a set that finished removing is deleted.</summary>
    private void Poll(ReplicationSet set, in TableStatus status, CaptureId from, List<Message> outbox)
    {
        var before = set.State;
        set.PollMatched(in status, from, outbox); // the lookup proved the spans equal
        CountStateChange(set, before);
        if (set.HasRemoved)
        {
            Delete(set);
        }
    }

    /// <summary>
    /// Applies capture membership changes. <paramref name="init"/> (the first time all captures
    /// answered) rebuilds the sets from every reported status; <paramref name="removed"/> lists
    /// captures that died: each set they held is polled as if they reported Stopped, and its
    /// running task is dropped so that it can be rescheduled. Sets left removed are deleted.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="init"/> is given but sets already exist.</exception>
    /// <exception cref="ReplicationSetInconsistentException">
    /// A rebuild or a shutdown found an inconsistency (TiCDC swallowed shutdown errors, §13 #2).
    /// </exception>
    public void HandleCaptureChanges(
        IReadOnlyDictionary<CaptureId, IReadOnlyList<TableStatus>>? init,
        IReadOnlyCollection<CaptureId>? removed,
        Ts checkpointTs,
        List<Message> outbox)
    {
        if (init is not null)
        {
            Rebuild(init, checkpointTs);
        }

        if (removed is { Count: > 0 })
        {
            HandleCaptureShutdowns(removed, outbox);
        }
    }

    private void Rebuild(IReadOnlyDictionary<CaptureId, IReadOnlyList<TableStatus>> init, Ts checkpointTs)
    {
        if (Spans.Count != 0)
        {
            throw new InvalidOperationException($"replication manager initialised again with {Spans.Count} sets");
        }

        var bySpan = new Dictionary<Span, Dictionary<CaptureId, TableStatus>>();
        foreach (var (capture, statuses) in init)
        {
            for (int index = 0; index < statuses.Count; index++)
            {
                var status = statuses[index];
                if (!bySpan.TryGetValue(status.Span, out var byCapture))
                {
                    byCapture = [];
                    bySpan.Add(status.Span, byCapture);
                }

                byCapture[capture] = status;
            }
        }

        Spans.EnsureCapacity(bySpan.Count);
        var spans = new List<Span>(bySpan.Keys);
        spans.Sort(static (a, b) => a.CompareTo(b));
        foreach (var span in spans)
        {
            Spans.Set(span, new ReplicationSet(span, checkpointTs, bySpan[span]));
        }
    }

    private void HandleCaptureShutdowns(IReadOnlyCollection<CaptureId> removed, List<Message> outbox)
    {
        var captures = new List<CaptureId>(removed);
        captures.Sort();
        foreach (var (span, set) in Spans.Ordered())
        {
            var before = set.State;
            foreach (var capture in captures)
            {
                if (set.HandleCaptureShutdown(capture, outbox))
                {
                    RunningTasks.Remove(span);
                }
            }

            CountStateChange(set, before);

            if (set.HasRemoved)
            {
                // A removing set whose last holder died (TiCDC left it in the map forever, §13 #11/#37).
                Delete(set);
            }
        }
    }

    private void CountAccepted(string kind) => _acceptedTaskCounts[kind]++;

    /// <summary>
    /// Deletes a set, remembering its checkpoint: what its holders sank up to. A set is deleted
    /// when its last holder stopped or died; when its span is added again (a table whose holders
    /// were all found stopping after an owner change, then re-added by the basic scheduler), the
    /// new set starts there rather than at the older changefeed checkpoint, which would sink that
    /// stretch twice (TiCDC starts at the changefeed checkpoint). See <see cref="AddTable"/>.
    /// </summary>
    private void Delete(ReplicationSet set)
    {
        Spans.Remove(set.Span);
        var checkpoint = set.Checkpoint.CheckpointTs;
        _deletedCheckpoints[set.Span] = _deletedCheckpoints.TryGetValue(set.Span, out var other) ? Ts.MaxOf(other, checkpoint) : checkpoint;
    }

    private void CountStateChange(ReplicationSet set, ReplicationSetState before)
    {
        if (set.State != before)
        {
            _stateChanges++;
        }
    }
}
