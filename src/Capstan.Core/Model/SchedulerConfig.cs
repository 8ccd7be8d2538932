namespace Capstan.Core.Model;

/// <summary>How the periodic balance scheduler weighs captures.</summary>
public enum BalanceMode
{
    /// <summary>TiCDC's behaviour: equal span counts per capture.</summary>
    Count = 0,

    /// <summary>Minimise the maximum capture load (write rate), with hysteresis.</summary>
    Load = 1,
}

/// <summary>
/// Scheduler settings, TiCDC defaults. Every limit is a named setting with a checked range
/// (<see cref="Validate"/>). Durations are in owner ticks (50 ms each by default).
/// </summary>
public sealed record SchedulerConfig
{
    /// <summary>Owner ticks between heartbeats (TiCDC heartbeat-tick, default 2).</summary>
    public int HeartbeatTicks { get; init; } = 2;

    /// <summary>Owner ticks between stats collections (collect-stats-tick, default 200 ≈ 10 s).</summary>
    public int CollectStatsTicks { get; init; } = 200;

    /// <summary>Maximum concurrent non-burst tasks; also the per-tick cap of balance and drain (default 10).</summary>
    public int MaxTaskConcurrency { get; init; } = 10;

    /// <summary>Owner ticks between periodic balance checks (check-balance-interval, 1 min = 1200 ticks).</summary>
    public int CheckBalanceIntervalTicks { get; init; } = 1200;

    /// <summary>Spans the basic scheduler adds per tick (add-table-batch-size, default 50).</summary>
    public int AddTableBatchSize { get; init; } = 50;

    /// <summary>Allow splitting a table into several spans (enable-table-across-nodes, default false).</summary>
    public bool EnableTableAcrossNodes { get; init; }

    /// <summary>The region-count splitter splits tables with more regions than this (default 100,000).</summary>
    public int RegionThreshold { get; init; } = 100_000;

    /// <summary>Minimum total written keys for the write-key splitter; 0 disables it (default).</summary>
    public long WriteKeyThreshold { get; init; }

    /// <summary>Count-based (TiCDC) or load-aware balance.</summary>
    public BalanceMode BalanceMode { get; init; } = BalanceMode.Count;

    /// <summary>Load-aware balance: a span does not move again within this many ticks of its last balance move (default 6000 ≈ 5 min; 0: no cool-down).</summary>
    public int MoveCooldownTicks { get; init; } = 6000;

    /// <summary>
    /// Load-aware balance: a balance plan is carried out only when it cuts the imbalance (load above
    /// the mean, over the mean; max/mean − 1 with one overloaded capture) by at least this much
    /// (default 0.05: e.g. from 1.30 to 1.25).
    /// </summary>
    public double MinImprovement { get; init; } = 0.05;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public SchedulerConfig Validate()
    {
        Check(HeartbeatTicks > 0, nameof(HeartbeatTicks), HeartbeatTicks, "must be > 0");
        Check(CollectStatsTicks > 0, nameof(CollectStatsTicks), CollectStatsTicks, "must be > 0");
        Check(MaxTaskConcurrency is > 0 and <= 100_000, nameof(MaxTaskConcurrency), MaxTaskConcurrency, "must be in 1..100000");
        Check(CheckBalanceIntervalTicks > 0, nameof(CheckBalanceIntervalTicks), CheckBalanceIntervalTicks, "must be > 0");
        Check(AddTableBatchSize is > 0 and <= 100_000, nameof(AddTableBatchSize), AddTableBatchSize, "must be in 1..100000");
        Check(RegionThreshold >= 0, nameof(RegionThreshold), RegionThreshold, "must be >= 0");
        Check(WriteKeyThreshold >= 0, nameof(WriteKeyThreshold), WriteKeyThreshold, "must be >= 0");
        Check(MoveCooldownTicks >= 0, nameof(MoveCooldownTicks), MoveCooldownTicks, "must be >= 0");
        Check(MinImprovement is >= 0 and < 1, nameof(MinImprovement), MinImprovement, "must be in [0, 1)");
        return this;
    }

    private static void Check(bool ok, string name, object value, string rule)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} {rule}");
        }
    }
}
