namespace Capstan.Core.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

/// <summary>
/// A manual rebalance requested through the API (spec §6.4): once every current span is
/// Replicating, one burst moves all excess spans at once (not limited by task concurrency).
/// </summary>
/// <remarks>
/// Deviation from TiCDC (spec §13 #23): the request does not linger. It ends when its burst is
/// accepted, when a capture is Stopping (cancelled, as TiCDC), and also when the cluster turns out
/// to be balanced already; TiCDC kept the flag set then, so a later imbalance triggered a surprise
/// burst. While spans are still being added or moved it waits.
/// <para>
/// The moves follow <see cref="SchedulerConfig.BalanceMode"/>: span counts (TiCDC), or loads
/// (<see cref="LoadBalanceMoves"/>, the whole plan, only when it cuts the imbalance by
/// <see cref="SchedulerConfig.MinImprovement"/>). A manual load rebalance ignores cool-downs (an
/// operator asked for it) but starts them, so the periodic balance does not undo it.
/// </para>
/// </remarks>
public sealed class RebalanceScheduler : IScheduler
{
    /// <summary>The scheduler's name.</summary>
    public const string SchedulerName = "rebalance-scheduler";

    private readonly IDeterministicRandom? _random;
    private readonly BalanceMode _mode;
    private readonly double _minImprovement;
    private readonly MoveCooldown? _cooldown;

    /// <summary>Creates a count-based scheduler; <paramref name="random"/> null means sorted victims and no tie bits.</summary>
    public RebalanceScheduler(IDeterministicRandom? random)
    {
        _random = random;
    }

    /// <summary>
    /// Creates the scheduler for <paramref name="config"/>'s balance mode. In load mode accepted
    /// moves start their cool-down in <paramref name="cooldown"/> (the periodic balance's log) when given.
    /// </summary>
    public RebalanceScheduler(SchedulerConfig config, IDeterministicRandom? random, MoveCooldown? cooldown = null)
        : this(random)
    {
        ArgumentNullException.ThrowIfNull(config);
        _mode = config.BalanceMode;
        _minImprovement = config.MinImprovement;
        _cooldown = cooldown;
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

        var moves = PlanMoves(context, _random);
        if (moves.Count == 0)
        {
            IsRequested = false; // already balanced: done
            return;
        }

        long tick = context.Tick;
        tasks.Add(new BurstBalanceTask([], [], moves)
        {
            Scheduler = SchedulerName,
            Accept = () =>
            {
                IsRequested = false;
                RecordMoves(moves, tick);
            },
        });
    }

    /// <summary>
    /// The moves a rebalance would make now, in the configured mode, without randomness and without
    /// changing anything: none while a capture is Stopping or a current span is not Replicating.
    /// </summary>
    public IReadOnlyList<MoveTableTask> Plan(SchedulingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Captures.Count == 0 || AnyStopping(context.Captures) || !AllCurrentSpansReplicating(context))
        {
            return [];
        }

        return PlanMoves(context, random: null);
    }

    private List<MoveTableTask> PlanMoves(SchedulingContext context, IDeterministicRandom? random) => _mode switch
    {
        BalanceMode.Load => LoadBalanceMoves.Plan(
            context.Captures, context.ReplicationSets, int.MaxValue, _minImprovement, cooldown: null, context.Tick, SchedulerName),
        _ => BalanceMoves.Plan(context.Captures, context.ReplicationSets, int.MaxValue, random, SchedulerName),
    };

    private void RecordMoves(List<MoveTableTask> moves, long tick)
    {
        if (_mode != BalanceMode.Load || _cooldown is null)
        {
            return;
        }

        foreach (var move in moves)
        {
            _cooldown.Record(move.Span, tick);
        }
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
        var cursor = default(SpanMapCursor); // current spans come in span order
        for (int i = 0; i < spans.Count; i++)
        {
            if (!context.ReplicationSets.TryGetValue(spans[i], ref cursor, out var set) || set.State != ReplicationSetState.Replicating)
            {
                return false;
            }
        }

        return true;
    }
}
