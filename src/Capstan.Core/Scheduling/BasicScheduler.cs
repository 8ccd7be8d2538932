namespace Capstan.Core.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

/// <summary>
/// Keeps every current span replicated and removes spans that should not exist: the initial
/// dispatch, CREATE/DROP TABLE, and re-adding the spans of a lost capture (spec §6.2).
/// </summary>
/// <remarks>
/// A steady-state tick (every current span has a set, none Absent, as many sets as spans) walks
/// the current spans with one map lookup each and allocates nothing; when neither the current
/// spans nor any set changed since such a tick (<see cref="SchedulingContext.SetStateVersion"/>),
/// it does not even walk.
/// Deviation from TiCDC (spec §13 #11): a set to remove that no capture holds (an Absent orphan of
/// a dropped table, a Removing set whose holders died) is not skipped but removed with
/// <see cref="CaptureId.None"/>, so the replication manager deletes it.
/// </remarks>
public sealed class BasicScheduler : IScheduler
{
    /// <summary>The scheduler's name.</summary>
    public const string SchedulerName = "basic-scheduler";

    private readonly int _batchSize;

    /// <summary>The last tick that found nothing to add or remove, if any: its spans instance, map and set-state version.</summary>
    private (IReadOnlyList<Span> Spans, SpanMap<ReplicationSet> Sets, long Version)? _quiet;

    /// <summary>Creates the scheduler; it adds at most <see cref="SchedulerConfig.AddTableBatchSize"/> spans per tick.</summary>
    public BasicScheduler(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        _batchSize = config.AddTableBatchSize;
    }

    /// <inheritdoc/>
    public string Name => SchedulerName;

    /// <inheritdoc/>
    public void Schedule(SchedulingContext context, List<ScheduleTask> tasks)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(tasks);
        var sets = context.ReplicationSets;
        if (_quiet is var (quietSpans, quietSets, quietVersion)
            && ReferenceEquals(quietSpans, context.CurrentSpans) && ReferenceEquals(quietSets, sets) && quietVersion == context.SetStateVersion)
        {
            return; // nothing changed since a tick that found nothing to do
        }

        _quiet = null;
        var newSpans = CollectNewSpans(context.CurrentSpans, sets, out bool allFound);
        if (newSpans is null && allFound && context.CurrentSpans.Count == sets.Count && context.SetStateVersion is { } version)
        {
            _quiet = (context.CurrentSpans, sets, version);
            return;
        }

        if (newSpans is not null)
        {
            var candidates = CaptureIndex.Select(context.Captures, static status => status.State != CaptureState.Stopping);
            if (candidates.Count == 0)
            {
                return; // nowhere to place anything; as TiCDC, removal waits too
            }

            tasks.Add(BuildAdds(newSpans, candidates.Ids, sets, context.CheckpointTs));
        }

        if (context.CurrentSpans.Count != sets.Count || !allFound)
        {
            var removes = BuildRemoves(context.CurrentSpans, sets);
            if (removes is not null)
            {
                tasks.Add(new BurstBalanceTask([], removes, []) { Scheduler = SchedulerName });
            }
        }
    }

    /// <summary>Up to one batch of current spans that have no set or an Absent one; null when none.</summary>
    private List<Span>? CollectNewSpans(IReadOnlyList<Span> currentSpans, SpanMap<ReplicationSet> sets, out bool allFound)
    {
        allFound = true;
        List<Span>? newSpans = null;
        var cursor = default(SpanMapCursor); // current spans come in span order: a walk over the sets
        for (int i = 0; i < currentSpans.Count; i++)
        {
            if (newSpans is not null && newSpans.Count >= _batchSize)
            {
                break;
            }

            var span = currentSpans[i];
            if (!sets.TryGetValue(span, ref cursor, out var set))
            {
                allFound = false;
                (newSpans ??= []).Add(span);
            }
            else if (set.State == ReplicationSetState.Absent)
            {
                (newSpans ??= []).Add(span);
            }
        }

        return newSpans;
    }

    /// <summary>
    /// Places each new span on the candidate holding the fewest spans so far (ties in capture-id
    /// order). TiCDC deals them round-robin starting from an arbitrary capture each batch, which
    /// leaves a spread of up to one per batch (e.g. 34/34/32 for 100 tables on 3 captures) that
    /// its balance rule then tolerates; filling the least-loaded capture first keeps every
    /// capture within one span of the others after the initial dispatch and after a capture loss.
    /// </summary>
    private static BurstBalanceTask BuildAdds(List<Span> newSpans, CaptureId[] candidates, SpanMap<ReplicationSet> sets, Ts checkpointTs)
    {
        var load = HeldSpans(candidates, sets);
        var adds = new AddTableTask[newSpans.Count];
        for (int i = 0; i < adds.Length; i++)
        {
            int target = 0;
            for (int c = 1; c < load.Length; c++)
            {
                if (load[c] < load[target])
                {
                    target = c;
                }
            }

            load[target]++;
            adds[i] = new AddTableTask(newSpans[i], candidates[target], checkpointTs) { Scheduler = SchedulerName };
        }

        return new BurstBalanceTask(adds, [], []) { Scheduler = SchedulerName };
    }

    /// <summary>Per candidate, the spans it will hold once running tasks finish (a secondary counts for its set, not the primary it replaces).</summary>
    private static int[] HeldSpans(CaptureId[] candidates, SpanMap<ReplicationSet> sets)
    {
        var load = new int[candidates.Length];
        foreach (ref readonly var entry in sets.Ordered())
        {
            var set = entry.Value;
            var holder = set.Secondary.IsNone ? set.Primary : set.Secondary;
            int index = holder.IsNone ? -1 : Array.IndexOf(candidates, holder);
            if (index >= 0)
            {
                load[index]++;
            }
        }

        return load;
    }

    /// <summary>A remove for every set whose span is not current, in span order; null when none.</summary>
    private static List<RemoveTableTask>? BuildRemoves(IReadOnlyList<Span> currentSpans, SpanMap<ReplicationSet> sets)
    {
        // Cheap check first: when every set's span is current there is nothing to remove (the usual
        // case after CREATE TABLE), and no span set needs to be built.
        int found = 0;
        var cursor = default(SpanMapCursor); // current spans come in span order
        for (int i = 0; i < currentSpans.Count; i++)
        {
            if (sets.TryGetValue(currentSpans[i], ref cursor, out _))
            {
                found++;
            }
        }

        if (found == sets.Count)
        {
            return null;
        }

        var current = new HashSet<Span>(currentSpans.Count);
        for (int i = 0; i < currentSpans.Count; i++)
        {
            current.Add(currentSpans[i]);
        }

        List<RemoveTableTask>? removes = null;
        foreach (ref readonly var entry in sets.Ordered())
        {
            if (!current.Contains(entry.Key))
            {
                (removes ??= []).Add(new RemoveTableTask(entry.Key, AnyHolder(entry.Value)) { Scheduler = SchedulerName });
            }
        }

        return removes;
    }

    /// <summary>The first capture holding any role in the set, or None when nobody holds it.</summary>
    private static CaptureId AnyHolder(ReplicationSet set)
    {
        foreach (var (capture, _) in set.Captures)
        {
            return capture;
        }

        return CaptureId.None;
    }
}
