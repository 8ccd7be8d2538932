namespace Capstan.Simulation;

/// <summary>Which property a run broke.</summary>
public enum ViolationKind
{
    /// <summary>Two captures sank the same span at the same moment.</summary>
    DoubleSink,

    /// <summary>The persisted changefeed checkpoint went backwards.</summary>
    CheckpointRegression,

    /// <summary>A ts range at or below the persisted checkpoint was never applied.</summary>
    Gap,

    /// <summary>A replication set (or agent, or capture manager) broke an invariant.</summary>
    Invariant,

    /// <summary>An exception escaped a node (agent, coordinator, executor, command).</summary>
    NodeException,

    /// <summary>A capture was still sinking when membership expired its session, or sank with a stale lease.</summary>
    Fencing,

    /// <summary>Two owners shared a revision, or a new owner's revision was not larger.</summary>
    Election,

    /// <summary>After the faults stopped, the cluster did not converge within the bound.</summary>
    Liveness,
}

/// <summary>
/// A property the simulator checks was broken. Carries everything needed to replay and read
/// the failure: the seed, the tick, the table involved (if any) and an excerpt of the trace.
/// </summary>
public sealed class SimulationViolation : Exception
{
    /// <summary>Creates a violation.</summary>
    public SimulationViolation(ViolationKind kind, ulong seed, long tick, string detail, long table, string trace, string replayCommand)
        : base($"{kind} at tick {tick} (seed {seed}): {detail}")
    {
        Kind = kind;
        Seed = seed;
        Tick = tick;
        Detail = detail;
        Table = table;
        Trace = trace;
        ReplayCommand = replayCommand;
    }

    /// <summary>Which property broke.</summary>
    public ViolationKind Kind { get; }

    /// <summary>The run's seed.</summary>
    public ulong Seed { get; }

    /// <summary>The tick at which the check failed.</summary>
    public long Tick { get; }

    /// <summary>What exactly was wrong.</summary>
    public string Detail { get; }

    /// <summary>The table involved, or -1.</summary>
    public long Table { get; }

    /// <summary>The last trace lines before the failure (filtered to the table when there is one).</summary>
    public string Trace { get; }

    /// <summary>The command line that replays this run.</summary>
    public string ReplayCommand { get; }

    /// <summary>The full report: what broke, how to replay it, and the trace excerpt.</summary>
    public string Report() =>
        $"VIOLATION {Kind} at tick {Tick}, seed {Seed}\n  {Detail}\nreplay: {ReplayCommand}\n--- trace (last lines{(Table >= 0 ? $", table {Table} and cluster events" : string.Empty)}) ---\n{Trace}";
}
