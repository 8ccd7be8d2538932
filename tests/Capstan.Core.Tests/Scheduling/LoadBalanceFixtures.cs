namespace Capstan.Core.Tests.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using static Capstan.Core.Tests.Member.MemberFixtures;

/// <summary>Replication sets rebuilt from statuses whose stats carry a write rate.</summary>
internal static class LoadBalanceFixtures
{
    /// <summary>
    /// A Replicating set of <paramref name="table"/> on <paramref name="capture"/> whose primary
    /// reported <paramref name="rate"/> keys/s: its weight is rate + 1.
    /// </summary>
    public static ReplicationSet Loaded(long table, string capture, ulong rate) =>
        new(S(table), 1, [KeyValuePair.Create(new CaptureId(capture), StatusWithRate(table, TableState.Replicating, rate))]);

    /// <summary>A set in a move: replicating on <paramref name="primary"/>, preparing on <paramref name="secondary"/>.</summary>
    public static ReplicationSet Moving(long table, string primary, string secondary, ulong rate) =>
        new(S(table), 1,
        [
            KeyValuePair.Create(new CaptureId(primary), StatusWithRate(table, TableState.Replicating, rate)),
            KeyValuePair.Create(new CaptureId(secondary), new TableStatus(S(table), TableState.Preparing, Checkpoint.At(1))),
        ]);

    /// <summary>Sets placed and loaded as given (weights are rate + 1).</summary>
    public static SpanMap<ReplicationSet> Loads(params (long Table, string Capture, ulong Rate)[] placement) =>
        Sets(placement.Select(p => Loaded(p.Table, p.Capture, p.Rate)).ToArray());

    public static TableStatus StatusWithRate(long table, TableState state, ulong rate) =>
        new(S(table), state, Checkpoint.At(1), new Stats { RegionCount = 1, WriteKeysPerSecond = rate });

    public static SchedulerConfig LoadConfig(int maxTaskConcurrency = 10, int cooldownTicks = 100, double minImprovement = 0.05) => new()
    {
        BalanceMode = BalanceMode.Load,
        MaxTaskConcurrency = maxTaskConcurrency,
        MoveCooldownTicks = cooldownTicks,
        MinImprovement = minImprovement,
        CheckBalanceIntervalTicks = 1,
    };

    /// <summary>Load-mode plan without cool-downs.</summary>
    public static List<MoveTableTask> PlanLoad(
        CaptureManager captures, SpanMap<ReplicationSet> sets, int limit = int.MaxValue, double minImprovement = 0.05) =>
        LoadBalanceMoves.Plan(captures.Captures, sets, limit, minImprovement, cooldown: null, tick: 0, "test");

    public static List<(long Table, string To)> Describe(IEnumerable<MoveTableTask> moves) =>
        moves.Select(m => (m.Span.TableId.Value, m.Destination.Value!)).ToList();

    /// <summary>Loads after the moves are carried out (weights are rate + 1).</summary>
    public static Dictionary<string, long> LoadsAfter((long Table, string Capture, ulong Rate)[] placement, IEnumerable<MoveTableTask> moves)
    {
        var where = placement.ToDictionary(p => p.Table, p => p.Capture);
        foreach (var move in moves)
        {
            where[move.Span.TableId.Value] = move.Destination.Value!;
        }

        var loads = new Dictionary<string, long>();
        foreach (var (table, _, rate) in placement)
        {
            loads[where[table]] = loads.GetValueOrDefault(where[table]) + (long)rate + 1;
        }

        return loads;
    }
}
