namespace Capstan.Simulation;

using System.Globalization;

/// <summary>
/// How many ticks after the faults stop the cluster may take to converge: every table
/// Replicating on exactly one live capture, counts per capture within 1, no task, drain or
/// move left, and the checkpoint past where it stood when the faults stopped. The bound is a sum
/// of stage bounds, each stage assumed to start only when the previous one ended (the worst
/// case); every term is derived in docs/SIMULATION.md.
/// </summary>
/// <param name="Membership">Every departed capture's session expires; paused, fenced and restarted captures register again.</param>
/// <param name="Ownership">An owner is elected and starts its coordinator.</param>
/// <param name="Initialization">Every capture answers the coordinator's first heartbeat.</param>
/// <param name="Adds">Every table without a replica is added (in batches) and committed.</param>
/// <param name="Moves">Drain and balance moves, MaxTaskConcurrency at a time, plus one balance interval.</param>
/// <param name="DrainRestart">The drained capture restarts and is initialised again.</param>
/// <param name="Checkpoint">The persisted checkpoint moves past its value at the end of the faults.</param>
public sealed record LivenessBound(int Membership, int Ownership, int Initialization, int Adds, int Moves, int DrainRestart, int Checkpoint)
{
    /// <summary>Slack for the tick order within one tick (a few ticks).</summary>
    public const int Slack = 10;

    /// <summary>The bound in ticks.</summary>
    public int Total => Membership + Ownership + Initialization + Adds + Moves + DrainRestart + Checkpoint + Slack;

    /// <summary>The bound for a run with these options and <paramref name="tables"/> tables.</summary>
    public static LivenessBound Compute(SimulationOptions options, int tables)
    {
        ArgumentNullException.ThrowIfNull(options);
        var scheduler = options.Scheduler;
        int etcd = options.EtcdMaxDelayTicks;
        int prepare = CeilDiv(options.MaxPrepareMilliseconds, (int)Simulator.TickMilliseconds) + 1;
        int stop = CeilDiv(options.MaxStopMilliseconds, (int)Simulator.TickMilliseconds) + 1;

        // A state change on an agent reaches the coordinator within one heartbeat period and two
        // one-way delays (request there, report back), plus one tick for the step order.
        int roundTrip = (2 * options.MaxDelayTicks) + scheduler.HeartbeatTicks + 2;
        int membership = options.LeaseTtlTicks + options.KeepaliveTicks + (2 * etcd) + 3;
        int ownership = etcd + 2;
        int initialization = roundTrip + 2;

        // Adds go out in batches of AddTableBatchSize per tick; the slowest one may wait for an
        // earlier stop of the same span on its capture, then prepares and commits.
        int adds = CeilDiv(tables, scheduler.AddTableBatchSize) + stop + prepare + (3 * roundTrip);

        // A move: prepare on the destination, stop on the source, commit; four exchanges. At most
        // MaxTaskConcurrency run at once. Drain moves every table of one capture away and balance
        // may then move up to every table once more: at most 2 × tables moves.
        int moveTime = prepare + stop + (4 * roundTrip);
        int moves = (CeilDiv(2 * tables, scheduler.MaxTaskConcurrency) * moveTime) + scheduler.CheckBalanceIntervalTicks + 2;
        int drainRestart = 2 + ownership + initialization;
        int checkpoint = roundTrip + (2 * etcd) + 2;
        return new LivenessBound(membership, ownership, initialization, adds, moves, drainRestart, checkpoint);
    }

    /// <summary>The terms, for reports.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Total} = membership {Membership} + ownership {Ownership} + init {Initialization} + adds {Adds} + moves {Moves} + drain restart {DrainRestart} + checkpoint {Checkpoint} + slack {Slack}");

    private static int CeilDiv(int value, int divisor) => (value + divisor - 1) / divisor;
}
