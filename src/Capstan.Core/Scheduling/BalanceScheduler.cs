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
/// How moves are chosen depends on <see cref="SchedulerConfig.BalanceMode"/>:
/// <list type="bullet">
/// <item><see cref="BalanceMode.Count"/>: TiCDC's equal span counts (<see cref="BalanceMoves"/>), up to
/// MaxTaskConcurrency moves per round whatever is running.</item>
/// <item><see cref="BalanceMode.Load"/>: the maximum capture load is lowered (<see cref="LoadBalanceMoves"/>),
/// only when the cut is worth <see cref="SchedulerConfig.MinImprovement"/>, with at most as many
/// moves as there are free task slots (MaxTaskConcurrency − running tasks), and no span moves again
/// within <see cref="SchedulerConfig.MoveCooldownTicks"/> ticks of its last accepted move
/// (<see cref="Cooldown"/>).</item>
/// </list>
/// </remarks>
public sealed class BalanceScheduler : IScheduler
{
    /// <summary>The scheduler's name.</summary>
    public const string SchedulerName = "balance-scheduler";

    private readonly IDeterministicRandom? _random;
    private readonly int _intervalTicks;
    private readonly int _maxTaskConcurrency;
    private readonly BalanceMode _mode;
    private readonly double _minImprovement;

    /// <summary>The tick of the last interval check; null before the first (which always runs).</summary>
    private long? _lastCheckTick;

    /// <summary>
    /// Creates the scheduler; <paramref name="random"/> null means sorted victims and no tie bits
    /// (count mode only). <paramref name="cooldown"/> is the move log shared with the manual
    /// rebalance; null creates one.
    /// </summary>
    public BalanceScheduler(SchedulerConfig config, IDeterministicRandom? random, MoveCooldown? cooldown = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _random = random;
        _intervalTicks = config.CheckBalanceIntervalTicks;
        _maxTaskConcurrency = config.MaxTaskConcurrency;
        _mode = config.BalanceMode;
        _minImprovement = config.MinImprovement;
        Cooldown = cooldown ?? new MoveCooldown(config.MoveCooldownTicks);
    }

    /// <inheritdoc/>
    public string Name => SchedulerName;

    /// <summary>The tick of each span's last balance move (load mode).</summary>
    public MoveCooldown Cooldown { get; }

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
        BalanceMode.Load => PlanLoadMoves(context),
        _ => BalanceMoves.Plan(context.Captures, context.ReplicationSets, _maxTaskConcurrency, _random, SchedulerName),
    };

    private List<MoveTableTask> PlanLoadMoves(SchedulingContext context)
    {
        Cooldown.Prune(context.ReplicationSets, context.Tick);
        int freeSlots = _maxTaskConcurrency - context.RunningTaskCount;
        var moves = LoadBalanceMoves.Plan(
            context.Captures, context.ReplicationSets, freeSlots, _minImprovement, Cooldown, context.Tick, SchedulerName);
        Cooldown.RecordOnAccept(moves, context.Tick);
        return moves;
    }
}
