namespace Capstan.Core.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

/// <summary>
/// The load-aware balance algorithm (<see cref="BalanceMode.Load"/>), shared by the periodic
/// balance and the manual rebalance: it lowers the maximum capture load, where a capture's load
/// is the summed weight of the spans it replicates.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><b>Weight</b> of a span: its write rate (<see cref="Protocol.Stats.WriteKeysPerSecond"/>
/// from the last non-empty stats its primary reported) plus <see cref="IdleWeight"/>, so that idle
/// spans and spans without stats yet still count (with no stats at all the balance degenerates
/// to span counts).</item>
/// <item><b>Loads</b>: only Initialized captures take part. A Replicating set counts on its
/// primary; a set being added or moved (Prepare, Commit) counts on its destination, so moves in
/// flight are not planned twice; Absent and Removing sets count nowhere.</item>
/// <item><b>Plan</b>: a greedy simulation. Repeatedly take the most-loaded capture and the
/// least-loaded one (ties: smallest capture id) and move the Replicating span of the former whose
/// weight is closest to half their gap (ties: the lighter, then the first in span order). A
/// move is taken only when it leaves both captures below the source's old load. When the
/// most-loaded capture has no such span it is set aside and the next one is tried. A span moves
/// at most once per plan, and spans in their cool-down (<see cref="MoveCooldown"/>) not at all.</item>
/// <item><b>Margin</b>: the imbalance is the overload, the load above the mean summed over the
/// captures, relative to the mean (with one overloaded capture, exactly max/mean − 1). The plan is
/// carried out only when, run to its end, it cuts the imbalance by at least the minimum
/// improvement; then its first <c>limit</c> moves are returned. Each greedy move lowers the
/// overload, so with steady loads the rounds converge and never undo each other.</item>
/// <item><b>Cost</b>: one pass over the sets and no per-span allocation when the cluster cannot
/// improve by the margin (an upper bound of the gain is checked first: the usual case). Otherwise a
/// second pass, a sort of the candidate spans of the captures that give spans away (pooled
/// arrays), and at most <see cref="MaxPlanSteps"/> steps of O(log spans) each.</item>
/// </list>
/// </remarks>
public static class LoadBalanceMoves
{
    /// <summary>Added to every span's write rate: an idle span still costs a capture something.</summary>
    public const long IdleWeight = 1;

    /// <summary>Weights are capped here (2^31 − 1 keys/s), which keeps every sum and sort key in range.</summary>
    public const long MaxWeight = int.MaxValue;

    /// <summary>A plan simulates at most this many moves; a longer plan is judged on its first steps.</summary>
    public const int MaxPlanSteps = 4096;

    /// <summary>The span's weight: its reported write rate plus <see cref="IdleWeight"/>, at most <see cref="MaxWeight"/>.</summary>
    public static long WeightOf(ReplicationSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        ulong rate = set.Stats?.WriteKeysPerSecond ?? 0;
        return rate >= (ulong)(MaxWeight - IdleWeight) ? MaxWeight : (long)rate + IdleWeight;
    }

    /// <summary>
    /// The moves that lower the maximum capture load, at most <paramref name="limit"/> of them,
    /// each tagged with <paramref name="scheduler"/>; none when the whole plan would cut the
    /// imbalance by less than <paramref name="minImprovement"/>. Spans cooling down at
    /// <paramref name="tick"/> in <paramref name="cooldown"/> (when not null) stay where they are.
    /// </summary>
    public static List<MoveTableTask> Plan(
        IReadOnlyDictionary<CaptureId, CaptureStatus> captures,
        SpanMap<ReplicationSet> sets,
        int limit,
        double minImprovement,
        MoveCooldown? cooldown,
        long tick,
        string scheduler)
    {
        ArgumentNullException.ThrowIfNull(captures);
        ArgumentNullException.ThrowIfNull(sets);
        var moves = new List<MoveTableTask>();
        var index = CaptureIndex.Select(captures, static status => status.State == CaptureState.Initialized);
        if (limit <= 0 || index.Count < 2)
        {
            return moves;
        }

        var ordered = sets.Ordered();
        var loads = new long[index.Count];
        var candidateCounts = new int[index.Count];
        long heaviest = AddLoads(ordered, index, loads, candidateCounts, cooldown, tick);
        long total = Sum(loads);
        Int128 before = ScaledOverload(loads, total);
        Int128 floor = Int128.Max(0, (Int128)heaviest * loads.Length - total);
        if (!IsWorthIt(before - floor, total, minImprovement))
        {
            return moves; // even a perfect plan would not gain enough
        }

        var planner = new LoadPlanner(loads, candidateCounts, ordered.Length);
        try
        {
            planner.Fill(ordered, index, cooldown, tick);
            planner.Run();
            if (IsWorthIt(before - ScaledOverload(planner.Loads, total), total, minImprovement))
            {
                planner.Emit(ordered, index.Ids, limit, scheduler, moves);
            }
        }
        finally
        {
            planner.Release();
        }

        return moves;
    }

    /// <summary>The loads of the Initialized captures as this algorithm sees them.</summary>
    public static CaptureLoads Measure(IReadOnlyDictionary<CaptureId, CaptureStatus> captures, SpanMap<ReplicationSet> sets)
    {
        ArgumentNullException.ThrowIfNull(captures);
        ArgumentNullException.ThrowIfNull(sets);
        var index = CaptureIndex.Select(captures, static status => status.State == CaptureState.Initialized);
        var loads = new long[index.Count];
        AddLoads(sets.Ordered(), index, loads, candidateCounts: null, cooldown: null, tick: 0);
        var byCapture = new Dictionary<CaptureId, long>(index.Count);
        for (int i = 0; i < loads.Length; i++)
        {
            byCapture[index.Ids[i]] = loads[i];
        }

        return new CaptureLoads(byCapture);
    }

    /// <summary>
    /// Adds every set's weight to the capture it counts on and, when <paramref name="candidateCounts"/>
    /// is given, counts the movable spans per capture. Returns the heaviest counted weight (0: none).
    /// </summary>
    private static long AddLoads(
        ReadOnlySpan<KeyValuePair<Span, ReplicationSet>> ordered,
        CaptureIndex index,
        long[] loads,
        int[]? candidateCounts,
        MoveCooldown? cooldown,
        long tick)
    {
        long heaviest = 0;
        foreach (ref readonly var entry in ordered)
        {
            var set = entry.Value;
            int capture = CountsOn(set, index);
            if (capture < 0)
            {
                continue;
            }

            long weight = WeightOf(set);
            loads[capture] += weight;
            heaviest = Math.Max(heaviest, weight);
            if (candidateCounts is not null && IsMovable(entry.Key, set, cooldown, tick))
            {
                candidateCounts[capture]++;
            }
        }

        return heaviest;
    }

    /// <summary>Position of the capture a set's load counts on, or −1.</summary>
    internal static int CountsOn(ReplicationSet set, CaptureIndex index)
    {
        switch (set.State)
        {
            case ReplicationSetState.Replicating:
                return index.IndexOf(set.Primary);
            case ReplicationSetState.Prepare or ReplicationSetState.Commit:
                var secondary = set.Secondary;
                return index.IndexOf(secondary.IsNone ? set.Primary : secondary);
            default:
                return -1;
        }
    }

    /// <summary>A Replicating span not cooling down may be moved.</summary>
    internal static bool IsMovable(Span span, ReplicationSet set, MoveCooldown? cooldown, long tick) =>
        set.State == ReplicationSetState.Replicating && (cooldown is null || !cooldown.IsCoolingDown(span, tick));

    private static long Sum(long[] values)
    {
        long sum = 0;
        foreach (long value in values)
        {
            sum += value;
        }

        return sum;
    }

    /// <summary>
    /// The overload (load above the mean, summed over captures) times the number of captures:
    /// Σ max(0, n·load − total), exact in integers.
    /// </summary>
    internal static Int128 ScaledOverload(long[] loads, long total)
    {
        Int128 sum = 0;
        foreach (long load in loads)
        {
            Int128 excess = (Int128)load * loads.Length - total;
            if (excess > 0)
            {
                sum += excess;
            }
        }

        return sum;
    }

    /// <summary>
    /// True when a cut of the scaled overload by <paramref name="scaledGain"/> lowers the imbalance
    /// (overload / mean) by at least <paramref name="minImprovement"/>, and is a real cut.
    /// </summary>
    /// <remarks>gain / mean ≥ m ⇔ (scaledGain / n) / (total / n) ≥ m ⇔ scaledGain ≥ m · total.</remarks>
    private static bool IsWorthIt(Int128 scaledGain, long total, double minImprovement) =>
        scaledGain > 0 && (double)scaledGain >= minImprovement * total;
}

/// <summary>Capture loads as load-aware balance sees them (see <see cref="LoadBalanceMoves.Measure"/>).</summary>
/// <param name="ByCapture">Load per Initialized capture.</param>
public sealed record CaptureLoads(IReadOnlyDictionary<CaptureId, long> ByCapture)
{
    /// <summary>Sum of the loads.</summary>
    public long Total => ByCapture.Values.Sum();

    /// <summary>The largest load (0 without captures).</summary>
    public long Max => ByCapture.Count == 0 ? 0 : ByCapture.Values.Max();

    /// <summary>The mean load per capture (0 without captures).</summary>
    public double Mean => ByCapture.Count == 0 ? 0 : (double)Total / ByCapture.Count;

    /// <summary>Max / mean: 1 when perfectly balanced (also when there is no load).</summary>
    public double MaxToMean => Mean == 0 ? 1 : Max / Mean;
}
