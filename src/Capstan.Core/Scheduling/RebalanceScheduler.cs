namespace Capstan.Core.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;

/// <summary>
/// A manual rebalance requested through the API (spec §6.4): once every current span is
/// Replicating, one burst moves all excess spans at once (not limited by task concurrency).
/// </summary>
/// <remarks>
/// Deviation from TiCDC (spec §13 #23): the request does not linger. It ends when its burst is
/// accepted, when a capture is Stopping (cancelled, as TiCDC), and also when the cluster turns out
/// to be balanced already; TiCDC kept the flag set then, so a later imbalance triggered a surprise
/// burst. While spans are still being added or moved it waits.
/// </remarks>
public sealed class RebalanceScheduler : IScheduler
{
    /// <summary>The scheduler's name.</summary>
    public const string SchedulerName = "rebalance-scheduler";

    private readonly IDeterministicRandom? _random;

    /// <summary>Creates the scheduler; <paramref name="random"/> null means sorted victims and no tie bits.</summary>
    public RebalanceScheduler(IDeterministicRandom? random)
    {
        _random = random;
    }

    /// <inheritdoc/>
    public string Name => SchedulerName;

    /// <summary>True while a requested rebalance has not ended.</summary>
    public bool IsRequested { get; private set; }

    /// <summary>Requests a rebalance.</summary>
    public void Trigger() => IsRequested = true;

    /// <inheritdoc/>
    public void Schedule(SchedulingContext context, List<ScheduleTask> tasks)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(tasks);
        if (!IsRequested || context.Captures.Count == 0)
        {
            return;
        }

        if (AnyStopping(context.Captures))
        {
            IsRequested = false; // cancelled
            return;
        }

        if (!AllCurrentSpansReplicating(context))
        {
            return;
        }

        var moves = BalanceMoves.Plan(context.Captures, context.ReplicationSets, int.MaxValue, _random, SchedulerName);
        if (moves.Count == 0)
        {
            IsRequested = false; // already balanced: done
            return;
        }

        tasks.Add(new BurstBalanceTask([], [], moves) { Scheduler = SchedulerName, Accept = () => IsRequested = false });
    }

    /// <summary>
    /// The moves a rebalance would make now, without randomness and without changing anything:
    /// none while a capture is Stopping or a current span is not Replicating.
    /// </summary>
    public static IReadOnlyList<MoveTableTask> Plan(SchedulingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Captures.Count == 0 || AnyStopping(context.Captures) || !AllCurrentSpansReplicating(context))
        {
            return [];
        }

        return BalanceMoves.Plan(context.Captures, context.ReplicationSets, int.MaxValue, random: null, SchedulerName);
    }

    internal static bool AnyStopping(IReadOnlyDictionary<CaptureId, CaptureStatus> captures)
    {
        foreach (var status in captures.Values)
        {
            if (status.State == CaptureState.Stopping)
            {
                return true;
            }
        }

        return false;
    }

    private static bool AllCurrentSpansReplicating(SchedulingContext context)
    {
        var spans = context.CurrentSpans;
        for (int i = 0; i < spans.Count; i++)
        {
            if (!context.ReplicationSets.TryGetValue(spans[i], out var set) || set.State != ReplicationSetState.Replicating)
            {
                return false;
            }
        }

        return true;
    }
}
