namespace Capstan.Simulation;

using System.Globalization;
using System.Text;
using Capstan.Core.Model;

/// <summary>Named ways to draw a run's configuration from its seed.</summary>
public enum SimulationProfile
{
    /// <summary>The swarm's wide ranges: 1–16 captures, 1–5,000 tables, every fault.</summary>
    Swarm,

    /// <summary>Small clusters and short runs, every fault: what the test suite runs.</summary>
    Small,
}

/// <summary>
/// Everything that shapes one simulated run besides its seed: cluster size, timings, and the
/// rate of every fault. All durations are in ticks of <see cref="Simulator.TickMilliseconds"/>;
/// all rates are probabilities per tick of the fault phase. <see cref="Draw"/> derives a whole
/// configuration from the run's random generator, so a seed alone replays a run.
/// </summary>
public sealed record SimulationOptions
{
    /// <summary>Captures in the cluster (1..64).</summary>
    public int Captures { get; init; } = 3;

    /// <summary>Tables the changefeed starts with (0..100,000).</summary>
    public int InitialTables { get; init; } = 20;

    /// <summary>Ticks of the fault phase; the liveness phase follows.</summary>
    public int FaultTicks { get; init; } = 400;

    /// <summary>Session (lease) TTL in ticks: a capture that cannot renew for this long is expired by membership.</summary>
    public int LeaseTtlTicks { get; init; } = 40;

    /// <summary>A capture fences itself once its lease is older than TTL − this margin (≥ 1).</summary>
    public int FenceMarginTicks { get; init; } = 2;

    /// <summary>Ticks between keep-alives (≥ 1, below the TTL − margin).</summary>
    public int KeepaliveTicks { get; init; } = 10;

    /// <summary>Largest one-way latency between a capture and the metadata store (etcd), in ticks.</summary>
    public int EtcdMaxDelayTicks { get; init; } = 1;

    /// <summary>Smallest per-link one-way message delay, in ticks.</summary>
    public int MinDelayTicks { get; init; }

    /// <summary>Largest per-link one-way message delay, in ticks (≤ 50).</summary>
    public int MaxDelayTicks { get; init; } = 2;

    /// <summary>Probability a message is lost.</summary>
    public double DropRate { get; init; } = 0.02;

    /// <summary>Probability a message is delivered twice.</summary>
    public double DuplicateRate { get; init; } = 0.02;

    /// <summary>
    /// Messages on one link may overtake each other. The real transport (one stream per peer) is
    /// FIFO per link, so this is off by default; turned on it shows what the protocol needs FIFO for.
    /// </summary>
    public bool UnorderedLinks { get; init; }

    /// <summary>Probability a message is held back a few extra ticks (on an ordered link, the messages behind it wait too).</summary>
    public double ReorderRate { get; init; } = 0.02;

    /// <summary>Crash rate per tick (a random up capture is killed).</summary>
    public double CrashRate { get; init; } = 0.004;

    /// <summary>Longest downtime of a crashed capture before it restarts, in ticks.</summary>
    public int MaxDowntimeTicks { get; init; } = 80;

    /// <summary>Rate of whole-process pauses (a stop-the-world pause: nothing runs, not even the fence check).</summary>
    public double PauseRate { get; init; } = 0.003;

    /// <summary>Longest pause, in ticks (may exceed the TTL).</summary>
    public int MaxPauseTicks { get; init; } = 60;

    /// <summary>Rate of network partitions between captures.</summary>
    public double PartitionRate { get; init; } = 0.004;

    /// <summary>Longest partition before it heals, in ticks.</summary>
    public int MaxPartitionTicks { get; init; } = 100;

    /// <summary>Rate of a capture being cut off from the metadata store (its session can expire).</summary>
    public double EtcdCutRate { get; init; } = 0.004;

    /// <summary>Longest cut from the metadata store, in ticks (may exceed the TTL).</summary>
    public int MaxEtcdCutTicks { get; init; } = 100;

    /// <summary>Rate of stuck executors (no progress: prepares, stops and sinks freeze).</summary>
    public double StallRate { get; init; } = 0.003;

    /// <summary>Longest executor stall, in ticks.</summary>
    public int MaxStallTicks { get; init; } = 60;

    /// <summary>Rate of voluntary owner resignations (a fail-over without a crash).</summary>
    public double ResignRate { get; init; } = 0.002;

    /// <summary>Rate of CREATE TABLE.</summary>
    public double CreateTableRate { get; init; } = 0.01;

    /// <summary>Rate of DROP TABLE.</summary>
    public double DropTableRate { get; init; } = 0.005;

    /// <summary>Rate of manual move-table commands.</summary>
    public double MoveRate { get; init; } = 0.01;

    /// <summary>Rate of manual rebalance commands.</summary>
    public double RebalanceRate { get; init; } = 0.003;

    /// <summary>Rate of drain-capture commands (the operator then polls the drain and restarts the drained capture).</summary>
    public double DrainRate { get; init; } = 0.002;

    /// <summary>Fraction of crashed captures that never come back when the faults stop (at least one capture always stays).</summary>
    public double LeaveRate { get; init; } = 0.2;

    /// <summary>Normal prepare (incremental scan) time in milliseconds.</summary>
    public int PrepareMilliseconds { get; init; } = 200;

    /// <summary>Normal stop time in milliseconds.</summary>
    public int StopMilliseconds { get; init; } = 100;

    /// <summary>Fraction of executor incarnations that are slow.</summary>
    public double SlowExecutorRate { get; init; } = 0.1;

    /// <summary>A slow executor's prepare time in milliseconds.</summary>
    public int SlowPrepareMilliseconds { get; init; } = 3_000;

    /// <summary>A slow executor's stop time in milliseconds.</summary>
    public int SlowStopMilliseconds { get; init; } = 2_000;

    /// <summary>Scheduler settings of every coordinator (balance interval small so that balance converges quickly).</summary>
    public SchedulerConfig Scheduler { get; init; } = new() { CheckBalanceIntervalTicks = 20, MaxTaskConcurrency = 10, AddTableBatchSize = 50 };

    /// <summary>Test knob: captures never fence themselves (the checks must then catch them).</summary>
    internal bool DisableSelfFencing { get; init; }

    /// <summary>Test knob: skip the check made when membership expires a session (so that a double sink can happen).</summary>
    internal bool DisableExpiryCheck { get; init; }

    /// <summary>Test knob: owners persist a checkpoint this much above their watermark (the gap check must catch it).</summary>
    internal long CheckpointLieMilliseconds { get; init; }

    /// <summary>The largest prepare time any executor can have, in milliseconds.</summary>
    public int MaxPrepareMilliseconds => Math.Max(PrepareMilliseconds, SlowPrepareMilliseconds);

    /// <summary>The largest stop time any executor can have, in milliseconds.</summary>
    public int MaxStopMilliseconds => Math.Max(StopMilliseconds, SlowStopMilliseconds);

    /// <summary>Draws a configuration of the given profile from <paramref name="random"/>.</summary>
    public static SimulationOptions Draw(SimulationProfile profile, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return profile switch
        {
            SimulationProfile.Small => DrawSmall(random),
            _ => DrawSwarm(random),
        };
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public SimulationOptions Validate()
    {
        Check(Captures is >= 1 and <= 64, nameof(Captures), Captures);
        Check(InitialTables is >= 0 and <= 100_000, nameof(InitialTables), InitialTables);
        Check(FaultTicks is >= 0 and <= 10_000_000, nameof(FaultTicks), FaultTicks);
        Check(FenceMarginTicks >= 1, nameof(FenceMarginTicks), FenceMarginTicks);
        Check(KeepaliveTicks >= 1 && KeepaliveTicks + (2 * EtcdMaxDelayTicks) < LeaseTtlTicks - FenceMarginTicks, nameof(KeepaliveTicks), KeepaliveTicks);
        Check(EtcdMaxDelayTicks is >= 0 and <= 10, nameof(EtcdMaxDelayTicks), EtcdMaxDelayTicks);
        Check(MinDelayTicks >= 0 && MinDelayTicks <= MaxDelayTicks && MaxDelayTicks <= 50, nameof(MaxDelayTicks), MaxDelayTicks);
        foreach (var (name, rate) in Rates())
        {
            Check(rate is >= 0 and <= 1, name, rate);
        }

        Check(PrepareMilliseconds >= 0 && SlowPrepareMilliseconds >= 0, nameof(PrepareMilliseconds), PrepareMilliseconds);
        Check(StopMilliseconds >= 0 && SlowStopMilliseconds >= 0, nameof(StopMilliseconds), StopMilliseconds);
        Scheduler.Validate();
        return this;
    }

    /// <summary>One line per setting, for the replay header.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"captures {Captures}, tables {InitialTables}, fault ticks {FaultTicks}, ");
        text.Append(CultureInfo.InvariantCulture, $"ttl {LeaseTtlTicks} (margin {FenceMarginTicks}, keepalive {KeepaliveTicks}, etcd delay ≤{EtcdMaxDelayTicks}), ");
        text.Append(CultureInfo.InvariantCulture, $"delay {MinDelayTicks}..{MaxDelayTicks}{(UnorderedLinks ? " unordered" : string.Empty)}, drop {DropRate:0.###}, dup {DuplicateRate:0.###}, reorder {ReorderRate:0.###}, ");
        text.Append(CultureInfo.InvariantCulture, $"crash {CrashRate:0.####}, pause {PauseRate:0.####}, partition {PartitionRate:0.####}, etcd cut {EtcdCutRate:0.####}, ");
        text.Append(CultureInfo.InvariantCulture, $"stall {StallRate:0.####}, resign {ResignRate:0.####}, create {CreateTableRate:0.####}, drop table {DropTableRate:0.####}, ");
        text.Append(CultureInfo.InvariantCulture, $"move {MoveRate:0.####}, rebalance {RebalanceRate:0.####}, drain {DrainRate:0.####}, leave {LeaveRate:0.##}, ");
        text.Append(CultureInfo.InvariantCulture, $"prepare {PrepareMilliseconds} ms (slow {SlowPrepareMilliseconds}), stop {StopMilliseconds} ms (slow {SlowStopMilliseconds}, rate {SlowExecutorRate:0.##}), ");
        text.Append(CultureInfo.InvariantCulture, $"max tasks {Scheduler.MaxTaskConcurrency}, add batch {Scheduler.AddTableBatchSize}, balance every {Scheduler.CheckBalanceIntervalTicks}");
        return text.ToString();
    }

    private IEnumerable<(string Name, double Rate)> Rates() =>
    [
        (nameof(DropRate), DropRate), (nameof(DuplicateRate), DuplicateRate), (nameof(ReorderRate), ReorderRate),
        (nameof(CrashRate), CrashRate), (nameof(PauseRate), PauseRate), (nameof(PartitionRate), PartitionRate),
        (nameof(EtcdCutRate), EtcdCutRate), (nameof(StallRate), StallRate), (nameof(ResignRate), ResignRate),
        (nameof(CreateTableRate), CreateTableRate), (nameof(DropTableRate), DropTableRate), (nameof(MoveRate), MoveRate),
        (nameof(RebalanceRate), RebalanceRate), (nameof(DrainRate), DrainRate), (nameof(LeaveRate), LeaveRate),
        (nameof(SlowExecutorRate), SlowExecutorRate),
    ];

    private static SimulationOptions DrawSwarm(SeededRandom random)
    {
        int ttl = Between(random, 20, 200);
        int tables = random.Chance(0.1) ? Between(random, 1000, 5000) : (int)Math.Round(Math.Exp(random.NextDouble() * Math.Log(1000)));
        double intensity = random.NextDouble() * 2;
        return new SimulationOptions
        {
            Captures = Between(random, 1, 16),
            InitialTables = Math.Clamp(tables, 1, 5000),
            FaultTicks = Between(random, 200, tables > 1000 ? 1200 : 3000),
            LeaseTtlTicks = ttl,
            FenceMarginTicks = Between(random, 1, 5),
            KeepaliveTicks = Math.Max(1, ttl / Between(random, 3, 6)),
            EtcdMaxDelayTicks = Between(random, 0, 2),
            MinDelayTicks = Between(random, 0, 1),
            MaxDelayTicks = Between(random, 1, 6),
            DropRate = random.NextDouble() * 0.1 * intensity,
            DuplicateRate = random.NextDouble() * 0.05 * intensity,
            ReorderRate = random.NextDouble() * 0.05 * intensity,
            CrashRate = random.NextDouble() * 0.006 * intensity,
            MaxDowntimeTicks = Between(random, 1, 3 * ttl),
            PauseRate = random.NextDouble() * 0.004 * intensity,
            MaxPauseTicks = Between(random, 1, 2 * ttl),
            PartitionRate = random.NextDouble() * 0.006 * intensity,
            MaxPartitionTicks = Between(random, 1, 3 * ttl),
            EtcdCutRate = random.NextDouble() * 0.006 * intensity,
            MaxEtcdCutTicks = Between(random, 1, 3 * ttl),
            StallRate = random.NextDouble() * 0.005 * intensity,
            MaxStallTicks = Between(random, 1, 200),
            ResignRate = random.NextDouble() * 0.003 * intensity,
            CreateTableRate = random.NextDouble() * 0.03,
            DropTableRate = random.NextDouble() * 0.015,
            MoveRate = random.NextDouble() * 0.03,
            RebalanceRate = random.NextDouble() * 0.005,
            DrainRate = random.NextDouble() * 0.004,
            LeaveRate = random.NextDouble() * 0.4,
            PrepareMilliseconds = Between(random, 0, 1000),
            StopMilliseconds = Between(random, 0, 500),
            SlowExecutorRate = random.NextDouble() * 0.3,
            SlowPrepareMilliseconds = Between(random, 1000, 20_000),
            SlowStopMilliseconds = Between(random, 500, 10_000),
            Scheduler = DrawScheduler(random, tables),
        };
    }

    private static SimulationOptions DrawSmall(SeededRandom random)
    {
        int ttl = Between(random, 12, 40);
        double intensity = 0.5 + random.NextDouble() * 1.5;
        return new SimulationOptions
        {
            Captures = Between(random, 1, 5),
            InitialTables = Between(random, 1, 40),
            FaultTicks = Between(random, 150, 400),
            LeaseTtlTicks = ttl,
            FenceMarginTicks = Between(random, 1, 3),
            KeepaliveTicks = Math.Max(1, ttl / Between(random, 3, 5)),
            EtcdMaxDelayTicks = Between(random, 0, 1),
            MinDelayTicks = 0,
            MaxDelayTicks = Between(random, 1, 3),
            DropRate = random.NextDouble() * 0.1 * intensity,
            DuplicateRate = random.NextDouble() * 0.05 * intensity,
            ReorderRate = random.NextDouble() * 0.05 * intensity,
            CrashRate = random.NextDouble() * 0.012 * intensity,
            MaxDowntimeTicks = Between(random, 1, 2 * ttl),
            PauseRate = random.NextDouble() * 0.008 * intensity,
            MaxPauseTicks = Between(random, 1, 2 * ttl),
            PartitionRate = random.NextDouble() * 0.012 * intensity,
            MaxPartitionTicks = Between(random, 1, 2 * ttl),
            EtcdCutRate = random.NextDouble() * 0.012 * intensity,
            MaxEtcdCutTicks = Between(random, 1, 2 * ttl),
            StallRate = random.NextDouble() * 0.01 * intensity,
            MaxStallTicks = Between(random, 1, 60),
            ResignRate = random.NextDouble() * 0.006 * intensity,
            CreateTableRate = random.NextDouble() * 0.04,
            DropTableRate = random.NextDouble() * 0.02,
            MoveRate = random.NextDouble() * 0.05,
            RebalanceRate = random.NextDouble() * 0.01,
            DrainRate = random.NextDouble() * 0.01,
            LeaveRate = random.NextDouble() * 0.4,
            PrepareMilliseconds = Between(random, 0, 400),
            StopMilliseconds = Between(random, 0, 300),
            SlowExecutorRate = random.NextDouble() * 0.3,
            SlowPrepareMilliseconds = Between(random, 500, 3000),
            SlowStopMilliseconds = Between(random, 300, 2000),
            Scheduler = DrawScheduler(random, 40),
        };
    }

    private static SchedulerConfig DrawScheduler(SeededRandom random, int tables) => new()
    {
        HeartbeatTicks = Between(random, 1, 3),
        MaxTaskConcurrency = Between(random, 1, tables > 500 ? 100 : 12),
        AddTableBatchSize = Between(random, 1, tables > 500 ? 200 : 50),
        CheckBalanceIntervalTicks = Between(random, 5, 40),
        CollectStatsTicks = Between(random, 20, 200),
    };

    /// <summary>A uniform integer in [low, high].</summary>
    internal static int Between(SeededRandom random, int low, int high) => low + random.Next(high - low + 1);

    private static void Check(bool ok, string name, object value)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} is out of range");
        }
    }
}
