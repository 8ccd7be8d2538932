namespace Capstan.Core.Tests.Scheduling;

using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using Capstan.Core.Tests.Coordination;
using Xunit.Abstractions;

/// <summary>
/// Load-aware balance through the whole core: a coordinator and real agents whose executors
/// report write rates in the stats of heartbeat responses (<see cref="MiniCluster"/>).
/// </summary>
public class LoadBalanceClusterTests
{
    private readonly ITestOutputHelper _output;

    public LoadBalanceClusterTests(ITestOutputHelper output)
    {
        _output = output;
    }

    private static SchedulerConfig Config(BalanceMode mode) => new()
    {
        BalanceMode = mode,
        HeartbeatTicks = 1,
        CollectStatsTicks = 4,
        CheckBalanceIntervalTicks = 10,
        MaxTaskConcurrency = 2,
        MoveCooldownTicks = 500,
    };

    /// <summary>
    /// 30 tables on three captures; the basic scheduler deals them out round-robin (table 1 → a,
    /// 2 → b, 3 → c, 4 → a, …), so the three hot tables 1, 4 and 7 (1000 keys/s; the others 10)
    /// all land on a, while the span counts are equal.
    /// </summary>
    private static MiniCluster SkewedCluster(BalanceMode mode)
    {
        var cluster = new MiniCluster(Config(mode), "a", ["a", "b", "c"]);
        cluster.SetTables(Enumerable.Range(1, 30).Select(t => (long)t).ToArray());
        cluster.WriteRate = span => span.TableId.Value is 1 or 4 or 7 ? 1000UL : 10UL;
        return cluster;
    }

    /// <summary>The true load per capture from the executors: Σ (write rate + 1) over the spans it replicates.</summary>
    private static Dictionary<CaptureId, long> TrueLoads(MiniCluster cluster) =>
        cluster.Captures.ToDictionary(
            id => id,
            id => cluster.Executor(id).ReplicatingSpans.Sum(span => (long)cluster.WriteRate(span) + 1));

    private static double MaxToMean(Dictionary<CaptureId, long> loads) => loads.Values.Max() / loads.Values.Average();

    private static List<SchedulingEvent> BalanceMoves(Coordinator coordinator) =>
        coordinator.History.Snapshot().Where(e => e.Scheduler == BalanceScheduler.SchedulerName).ToList();

    [Fact(DisplayName = "Skewed workload: count balance leaves the capture with all three hot tables at 2.8× the mean load and never moves")]
    public void Skewed_CountBalance_StaysSkewed()
    {
        var cluster = SkewedCluster(BalanceMode.Count);
        cluster.Settle();
        cluster.Run(300);

        var loads = TrueLoads(cluster);
        _output.WriteLine(string.Join(", ", loads.Select(pair => $"{pair.Key}: {pair.Value}")));
        Assert.Empty(BalanceMoves(cluster.Coordinator));
        Assert.Equal(3 * 1001 + 7 * 11, loads["a"]);
        Assert.True(MaxToMean(loads) > 2.5, $"max/mean {MaxToMean(loads):F2}");
    }

    [Fact(DisplayName = "Skewed workload: load balance, fed by stats in heartbeat responses, brings max/mean under 1.25 with two moves, then stays put")]
    public void Skewed_LoadBalance_Converges()
    {
        var cluster = SkewedCluster(BalanceMode.Load);
        cluster.Settle();
        int maxRunning = 0;
        cluster.Run(300, _ => maxRunning = Math.Max(maxRunning, cluster.Coordinator.RunningTasks.Count));

        var loads = TrueLoads(cluster);
        var moves = BalanceMoves(cluster.Coordinator);
        _output.WriteLine(string.Join(", ", loads.Select(pair => $"{pair.Key}: {pair.Value}")));
        _output.WriteLine(string.Join("\n", moves));
        Assert.True(MaxToMean(loads) < 1.25, $"max/mean {MaxToMean(loads):F2}");
        Assert.Equal(2, moves.Count);
        Assert.All(moves, move => Assert.Contains(move.Span.TableId.Value, new long[] { 1, 4, 7 }));
        Assert.True(maxRunning <= cluster.Config.MaxTaskConcurrency, $"{maxRunning} tasks ran at once");
        Assert.True(cluster.IsSettled());

        // The coordinator's own view agrees with the executors'.
        var seen = LoadBalanceMoves.Measure(cluster.Coordinator.Captures, cluster.Coordinator.ReplicationSets);
        Assert.Equal(loads.Values.Max(), seen.Max);
        Assert.True(seen.MaxToMean < 1.25);

        // Balanced within the margin: a manual rebalance has nothing to do either.
        Assert.Empty(cluster.Coordinator.PlanRebalance());
    }

    [Fact(DisplayName = "Skewed workload, manual rebalance in load mode: PlanRebalance shows the load moves, Rebalance carries them out in one burst")]
    public void Skewed_ManualRebalance_LoadMode()
    {
        var cluster = new MiniCluster(Config(BalanceMode.Load) with { CheckBalanceIntervalTicks = 1_000_000 }, "a", ["a", "b", "c"]);
        cluster.SetTables(Enumerable.Range(1, 30).Select(t => (long)t).ToArray());
        cluster.Settle(); // no stats yet: the first periodic check (counts only) finds nothing
        cluster.WriteRate = span => span.TableId.Value is 1 or 4 or 7 ? 1000UL : 10UL;
        cluster.Run(10); // stats arrive

        // The whole plan: the two hot tables off a, then one light table from b and one from c to a.
        var plan = cluster.Coordinator.PlanRebalance();
        Assert.Equal([(1L, "b"), (4L, "c"), (2L, "a"), (3L, "a")], plan.Select(m => (m.Span.TableId.Value, m.Destination.Value!)));
        Assert.True(cluster.Coordinator.Rebalance().Accepted);
        cluster.Step();
        cluster.Settle();

        Assert.Equal([1100L, 1100L, 1100L], TrueLoads(cluster).Values);
        Assert.Equal(4, cluster.Coordinator.History.Snapshot().Count(e => e.Scheduler == RebalanceScheduler.SchedulerName));
    }

    [Theory(DisplayName = "Fluctuating load over 3,000 ticks: no span moves again within the cool-down, running tasks never exceed MaxTaskConcurrency, and the balance keeps working")]
    [InlineData(1UL)]
    [InlineData(7UL)]
    [InlineData(2024UL)]
    public void FluctuatingLoad_NoPingPong(ulong seed)
    {
        var config = FluctuatingConfig(cooldownTicks: 300, minImprovement: 0.05);
        var (cluster, maxRunning) = RunFluctuating(config, seed, ticks: 3000);

        var moves = BalanceMoves(cluster.Coordinator);
        _output.WriteLine($"seed {seed}: {moves.Count} balance moves");
        Assert.True(moves.Count > 0, $"seed {seed}: the balance never moved anything");
        Assert.True(maxRunning <= config.MaxTaskConcurrency, $"seed {seed}: {maxRunning} tasks ran at once");
        foreach (var group in moves.GroupBy(m => m.Span))
        {
            var ticks = group.Select(m => m.Tick).ToList();
            for (int i = 1; i < ticks.Count; i++)
            {
                Assert.True(ticks[i] - ticks[i - 1] >= config.MoveCooldownTicks,
                    $"seed {seed}: {group.Key} moved at ticks {string.Join(", ", ticks)} (cool-down {config.MoveCooldownTicks})");
            }
        }
    }

    [Fact(DisplayName = "Fluctuating load without hysteresis (no cool-down, no margin): the same run moves some span again within 300 ticks — the check above has teeth")]
    public void FluctuatingLoad_WithoutHysteresis_PingPongs()
    {
        var (cluster, _) = RunFluctuating(FluctuatingConfig(cooldownTicks: 0, minImprovement: 0), seed: 1, ticks: 3000);

        var moves = BalanceMoves(cluster.Coordinator);
        int quickRepeats = moves.GroupBy(m => m.Span)
            .Sum(group => group.Zip(group.Skip(1), (first, second) => second.Tick - first.Tick < 300 ? 1 : 0).Sum());
        _output.WriteLine($"{moves.Count} balance moves, {quickRepeats} repeats within 300 ticks");
        Assert.True(quickRepeats > 0);
    }

    private static SchedulerConfig FluctuatingConfig(int cooldownTicks, double minImprovement) => new()
    {
        BalanceMode = BalanceMode.Load,
        HeartbeatTicks = 1,
        CollectStatsTicks = 5,
        CheckBalanceIntervalTicks = 10,
        MaxTaskConcurrency = 3,
        MoveCooldownTicks = cooldownTicks,
        MinImprovement = minImprovement,
    };

    /// <summary>
    /// Four captures, 24 tables. Every 40 ticks each table draws a new write rate: a quarter of the
    /// draws are hot (up to 2000 keys/s), the rest below 50.
    /// </summary>
    private static (MiniCluster Cluster, int MaxRunning) RunFluctuating(SchedulerConfig config, ulong seed, int ticks)
    {
        var cluster = new MiniCluster(config, "a", ["a", "b", "c", "d"]);
        cluster.SetTables(Enumerable.Range(1, 24).Select(t => (long)t).ToArray());
        var random = new SeededRandom(seed);
        var rates = new Dictionary<long, ulong>();
        cluster.WriteRate = span => rates.GetValueOrDefault(span.TableId.Value);
        cluster.Settle();

        int maxRunning = 0;
        for (int tick = 0; tick < ticks; tick++)
        {
            if (tick % 40 == 0)
            {
                for (long table = 1; table <= 24; table++)
                {
                    rates[table] = random.Next(4) == 0 ? (ulong)random.Next(2000) : (ulong)random.Next(50);
                }
            }

            cluster.Step();
            maxRunning = Math.Max(maxRunning, cluster.Coordinator.RunningTasks.Count);
        }

        return (cluster, maxRunning);
    }
}
