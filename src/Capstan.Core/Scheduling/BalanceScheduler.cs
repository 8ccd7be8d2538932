namespace Capstan.Core.Scheduling;

using Capstan.Core.Model;

/// <summary>
/// The periodic balance (spec §6.6): every <see cref="SchedulerConfig.CheckBalanceIntervalTicks"/>
/// coordinator ticks, unless a capture is Stopping, it moves up to
/// <see cref="SchedulerConfig.MaxTaskConcurrency"/> excess spans, each as its own (concurrency
/// limited) move. After a productive round it checks again on the next tick, ignoring the
/// interval, until a round finds nothing to move.
/// </summary>
/// <remarks>
/// How moves are chosen depends on <see cref="SchedulerConfig.BalanceMode"/>. Only
/// <see cref="BalanceMode.Count"/> (TiCDC's span counts, <see cref="BalanceMoves"/>) exists today;
/// the load-aware mode is planned and plugs in at <see cref="PlanMoves"/>; until then it counts spans.
/// </remarks>
public sealed class BalanceScheduler : IScheduler
{
    /// <summary>The scheduler's name.</summary>
    public const string SchedulerName = "balance-scheduler";

    private readonly IDeterministicRandom? _random;
    private readonly int _intervalTicks;
    private readonly int _maxTaskConcurrency;
    private readonly BalanceMode _mode;

    /// <summary>The tick of the last interval check; null before the first (which always runs).</summary>
    private long? _lastCheckTick;

    /// <summary>Creates the scheduler; <paramref name="random"/> null means sorted victims and no tie bits.</summary>
    public BalanceScheduler(SchedulerConfig config, IDeterministicRandom? random)
    {
        ArgumentNullException.ThrowIfNull(config);
        _random = random;
        _intervalTicks = config.CheckBalanceIntervalTicks;
        _maxTaskConcurrency = config.MaxTaskConcurrency;
        _mode = config.BalanceMode;
    }

    /// <inheritdoc/>
    public string Name => SchedulerName;

    /// <summary>True when the last round produced moves: the next tick balances regardless of the interval.</summary>
    public bool ForceBalance { get; private set; }

    /// <inheritdoc/>
    public void Schedule(SchedulingContext context, List<ScheduleTask> tasks)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(tasks);
        if (!ForceBalance)
        {
            if (_lastCheckTick is long last && context.Tick - last < _intervalTicks)
            {
                return;
            }

            _lastCheckTick = context.Tick;
        }

        if (RebalanceScheduler.AnyStopping(context.Captures))
        {
            return; // a drain or shutdown is under way; ForceBalance is kept
        }

        var moves = PlanMoves(context);
        tasks.AddRange(moves);
        ForceBalance = moves.Count != 0;
    }

    private List<MoveTableTask> PlanMoves(SchedulingContext context) => _mode switch
    {
        // BalanceMode.Load is not implemented yet; it falls back to span counts.
        _ => BalanceMoves.Plan(context.Captures, context.ReplicationSets, _maxTaskConcurrency, _random, SchedulerName),
    };
}
