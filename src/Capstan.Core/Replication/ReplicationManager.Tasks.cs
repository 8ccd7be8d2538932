namespace Capstan.Core.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;

/// <summary>Carrying out the schedulers' tasks (spec §4.4).</summary>
public sealed partial class ReplicationManager
{
    /// <summary>
    /// Reaps finished tasks (their set is Replicating, Absent, removed or gone), then carries out
    /// <paramref name="tasks"/> in order. Ordinary tasks are skipped while
    /// <see cref="MaxTaskConcurrency"/> tasks run, when their span already has a running task, or
    /// (except adds) when their span has no set; an accepted task runs until reaped and its
    /// <see cref="ScheduleTask.Accept"/> is called. Burst tasks ignore the concurrency limit;
    /// each of their items skips spans with a running task and becomes a running task itself.
    /// </summary>
    /// <exception cref="ReplicationSetInconsistentException">A set rejected a command; the caller must discard the outbox.</exception>
    public void HandleTasks(IReadOnlyList<ScheduleTask> tasks, List<Message> outbox)
    {
        ReapFinishedTasks();
        for (int index = 0; index < tasks.Count; index++)
        {
            var task = tasks[index];
            if (task is BurstBalanceTask burst)
            {
                HandleBurst(burst, outbox);
                continue;
            }

            // TiCDC compared with "==": burst placeholders could push the count past the limit (§13 #5).
            if (RunningTasks.Count >= MaxTaskConcurrency)
            {
                continue;
            }

            var span = SpanOf(task);
            if (RunningTasks.ContainsKey(span) || (!Spans.ContainsKey(span) && task is not AddTableTask))
            {
                continue;
            }

            Run(task, outbox);
            RunningTasks.Set(span, task);
            task.Accept?.Invoke();
        }
    }

    /// <summary>
    /// A task is over when its set is gone, removed or Replicating — or Absent: nobody holds the
    /// span any more, so the task failed (its secondary or primary was lost through a report, not
    /// a capture shutdown) or was ignored (a remove that arrived while a move was in flight).
    /// TiCDC kept such tasks running forever, and the span could then never be added again nor
    /// removed (found by the cluster simulator, seed 95 of the small profile). Cost is
    /// proportional to the running tasks, not to the sets.
    /// </summary>
    private void ReapFinishedTasks()
    {
        if (RunningTasks.Count == 0)
        {
            return;
        }

        foreach (var (span, _) in RunningTasks.Ordered())
        {
            if (!Spans.TryGetValue(span, out var set) || set.State is ReplicationSetState.Replicating or ReplicationSetState.Absent
                || set.HasRemoved)
            {
                RunningTasks.Remove(span);
            }
        }
    }

    private void HandleBurst(BurstBalanceTask burst, List<Message> outbox)
    {
        CountAccepted(BurstBalanceKind);
        foreach (var add in burst.AddTables)
        {
            if (!RunningTasks.ContainsKey(add.Span))
            {
                AddTable(add, outbox);
                RunningTasks.Set(add.Span, add);
            }
        }

        // TiCDC dereferenced missing sets for burst removes and moves (§13 #4): skip them.
        foreach (var remove in burst.RemoveTables)
        {
            if (!RunningTasks.ContainsKey(remove.Span) && Spans.ContainsKey(remove.Span))
            {
                RemoveTable(remove, outbox);
                RunningTasks.Set(remove.Span, remove);
            }
        }

        foreach (var move in burst.MoveTables)
        {
            if (!RunningTasks.ContainsKey(move.Span) && Spans.ContainsKey(move.Span))
            {
                MoveTable(move, outbox);
                RunningTasks.Set(move.Span, move);
            }
        }

        burst.Accept?.Invoke();
    }

    private void Run(ScheduleTask task, List<Message> outbox)
    {
        switch (task)
        {
            case AddTableTask add:
                AddTable(add, outbox);
                break;
            case RemoveTableTask remove:
                RemoveTable(remove, outbox);
                break;
            case MoveTableTask move:
                MoveTable(move, outbox);
                break;
            default:
                throw new ArgumentException($"unknown task kind {task.GetType().Name}", nameof(task));
        }
    }

    private static Span SpanOf(ScheduleTask task) => task switch
    {
        AddTableTask add => add.Span,
        RemoveTableTask remove => remove.Span,
        MoveTableTask move => move.Span,
        _ => throw new ArgumentException($"unknown task kind {task.GetType().Name}", nameof(task)),
    };

    private void AddTable(AddTableTask task, List<Message> outbox)
    {
        CountAccepted(AddTableKind);
        if (!Spans.TryGetValue(task.Span, out var set))
        {
            // A span whose set was deleted starts where its last holders stopped, if that is later.
            var checkpoint = _deletedCheckpoints.Remove(task.Span, out var deleted) ? Ts.MaxOf(task.CheckpointTs, deleted) : task.CheckpointTs;
            set = new ReplicationSet(task.Span, checkpoint);
            Spans.Set(task.Span, set);
        }

        var before = set.State;
        set.HandleAddTable(task.Capture, outbox);
        CountStateChange(set, before);
    }

    /// <summary>
    /// Removes a span. A set that no capture holds (Absent after its capture died, or Removing
    /// after its last holder died) is deleted at once with no message: nobody is left to stop,
    /// and TiCDC, which only removed Replicating sets, kept such orphans forever (§13 #11/#37).
    /// </summary>
    private void RemoveTable(RemoveTableTask task, List<Message> outbox)
    {
        CountAccepted(RemoveTableKind);
        var set = Spans.TryGetValue(task.Span, out var found)
            ? found
            : throw new InvalidOperationException($"remove of {task.Span} without a set");
        if (set.Captures.Count == 0)
        {
            Delete(set);
            return;
        }

        var before = set.State;
        set.HandleRemoveTable(outbox);
        CountStateChange(set, before);
    }

    private void MoveTable(MoveTableTask task, List<Message> outbox)
    {
        CountAccepted(MoveTableKind);
        var set = Spans.TryGetValue(task.Span, out var found)
            ? found
            : throw new InvalidOperationException($"move of {task.Span} without a set");
        var before = set.State;
        set.HandleMoveTable(task.Destination, outbox);
        CountStateChange(set, before);
    }
}
