namespace Capstan.Core.Scheduling;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

/// <summary>
/// The count-based balance algorithm shared by the periodic balance and the manual rebalance
/// (spec §6.6): every capture may hold at most ceil(sets / captures) Replicating spans as primary;
/// the excess spans become victims and go, one by one, to the capture with the fewest spans.
/// Capstan also lifts captures below floor(sets / captures) once nothing is in flight, so a
/// balanced cluster's counts differ by at most one (TiCDC can stay at e.g. 3, 3, 3, 1).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>The upper bound counts every set, whatever its state; per capture only Replicating sets count.</item>
/// <item>Only Initialized captures take part. A Replicating set whose primary is not one of them
/// (an unknown capture, spec §13 #6) is ignored instead of crashing.</item>
/// <item>Without randomness victims are the first spans in span order and ties go to the smallest
/// capture id; with it victims are sampled and ties broken by 8 random low bits of the workload.</item>
/// <item>A victim may be assigned back to its own capture; the replication set ignores such a move.</item>
/// <item>A balanced cluster (the usual case) costs one pass over the sets and no per-span allocation.</item>
/// </list>
/// </remarks>
public static class BalanceMoves
{
    private const int RandomBits = 8;

    /// <summary>
    /// The moves that balance the cluster, at most <paramref name="limit"/> of them, each tagged
    /// with <paramref name="scheduler"/>. Draws from <paramref name="random"/> only when it is not null.
    /// </summary>
    public static List<MoveTableTask> Plan(
        IReadOnlyDictionary<CaptureId, CaptureStatus> captures,
        SpanMap<ReplicationSet> sets,
        int limit,
        IDeterministicRandom? random,
        string scheduler)
    {
        ArgumentNullException.ThrowIfNull(captures);
        ArgumentNullException.ThrowIfNull(sets);
        var moves = new List<MoveTableTask>();
        var index = CaptureIndex.Select(captures, static status => status.State == CaptureState.Initialized);
        if (index.Count == 0 || limit <= 0)
        {
            return moves;
        }

        var counts = CountPrimaries(sets, index);
        int upper = (int)(((long)sets.Count + index.Count - 1) / index.Count);
        var victims = FindVictims(sets, index, counts, upper, random);
        victims = AddDeficitVictims(sets, index, counts, victims, random);
        if (victims is null)
        {
            return moves;
        }

        var workload = new long[index.Count];
        for (int i = 0; i < workload.Length; i++)
        {
            workload[i] = Randomize(counts[i], random);
        }

        for (int v = 0; v < victims.Count && v < limit; v++)
        {
            int chosen = 0;
            for (int i = 1; i < workload.Length; i++)
            {
                if (workload[i] < workload[chosen])
                {
                    chosen = i;
                }
            }

            moves.Add(new MoveTableTask(victims[v], index.Ids[chosen]) { Scheduler = scheduler });
            counts[chosen]++;
            workload[chosen] = Randomize(counts[chosen], random);
        }

        return moves;
    }

    /// <summary>Replicating primaries per selected capture.</summary>
    private static int[] CountPrimaries(SpanMap<ReplicationSet> sets, CaptureIndex index)
    {
        var counts = new int[index.Count];
        foreach (ref readonly var entry in sets.Ordered())
        {
            if (entry.Value.State == ReplicationSetState.Replicating && index.IndexOf(entry.Value.Primary) is int i and >= 0)
            {
                counts[i]++;
            }
        }

        return counts;
    }

    /// <summary>
    /// The excess spans of every capture above <paramref name="upper"/>, captures in id order
    /// (their counts are lowered accordingly); null when no capture exceeds it.
    /// </summary>
    private static List<Span>? FindVictims(
        SpanMap<ReplicationSet> sets, CaptureIndex index, int[] counts, int upper, IDeterministicRandom? random)
    {
        var spansOf = new List<Span>?[index.Count];
        bool anyExcess = false;
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] > upper)
            {
                spansOf[i] = new List<Span>(counts[i]);
                anyExcess = true;
            }
        }

        if (!anyExcess)
        {
            return null;
        }

        foreach (ref readonly var entry in sets.Ordered())
        {
            if (entry.Value.State == ReplicationSetState.Replicating
                && index.IndexOf(entry.Value.Primary) is int i and >= 0 && spansOf[i] is { } spans)
            {
                spans.Add(entry.Key);
            }
        }

        var victims = new List<Span>();
        for (int i = 0; i < spansOf.Length; i++)
        {
            if (spansOf[i] is { } spans)
            {
                int excess = counts[i] - upper;
                TakeFirst(spans, excess, random, victims);
                counts[i] -= excess;
            }
        }

        return victims;
    }

    /// <summary>
    /// Capstan (found by the cluster simulator, seed 10 of the small profile): TiCDC only moves
    /// spans above ceil(sets / captures), so e.g. 3, 3, 3, 1 counts as balanced and stays so
    /// forever. When every set replicates on a selected capture (no move in flight, so counts are
    /// final), captures below floor(sets / captures) also receive spans, taken one at a time from
    /// the captures with the most (ties: capture order), until every capture holds floor or
    /// ceil — i.e. counts differ by at most one. The excess victims already planned go first.
    /// Returns <paramref name="victims"/>, possibly grown (or created), or null when there is none.
    /// </summary>
    private static List<Span>? AddDeficitVictims(
        SpanMap<ReplicationSet> sets, CaptureIndex index, int[] counts, List<Span>? victims, IDeterministicRandom? random)
    {
        long replicating = victims?.Count ?? 0;
        foreach (int count in counts)
        {
            replicating += count;
        }

        if (replicating != sets.Count)
        {
            return victims;
        }

        int lower = sets.Count / index.Count;
        long deficit = -(victims?.Count ?? 0);
        foreach (int count in counts)
        {
            deficit += Math.Max(0, lower - count);
        }

        if (deficit <= 0)
        {
            return victims;
        }

        var spansOf = SpansByCapture(sets, index, counts, lower, victims);
        victims ??= [];
        for (; deficit > 0; deficit--)
        {
            int donor = -1;
            for (int i = 0; i < counts.Length; i++)
            {
                if (counts[i] > lower && (donor < 0 || counts[i] > counts[donor]))
                {
                    donor = i;
                }
            }

            if (donor < 0)
            {
                break;
            }

            var spans = spansOf[donor]!;
            TakeFirst(spans, 1, random, victims);
            spans.RemoveAt(0);
            counts[donor]--;
        }

        return victims;
    }

    /// <summary>The Replicating spans of every capture above <paramref name="lower"/> that are not victims yet, in span order.</summary>
    private static List<Span>?[] SpansByCapture(SpanMap<ReplicationSet> sets, CaptureIndex index, int[] counts, int lower, List<Span>? victims)
    {
        var taken = victims is null ? null : new HashSet<Span>(victims);
        var spansOf = new List<Span>?[index.Count];
        foreach (ref readonly var entry in sets.Ordered())
        {
            if (entry.Value.State == ReplicationSetState.Replicating
                && index.IndexOf(entry.Value.Primary) is int i and >= 0 && counts[i] > lower
                && (taken is null || !taken.Contains(entry.Key)))
            {
                (spansOf[i] ??= []).Add(entry.Key);
            }
        }

        return spansOf;
    }

    /// <summary>Appends <paramref name="count"/> spans: the first ones, or a uniform random sample (partial Fisher–Yates).</summary>
    private static void TakeFirst(List<Span> spans, int count, IDeterministicRandom? random, List<Span> victims)
    {
        for (int k = 0; k < count; k++)
        {
            if (random is not null)
            {
                int j = k + random.Next(spans.Count - k);
                (spans[k], spans[j]) = (spans[j], spans[k]);
            }

            victims.Add(spans[k]);
        }
    }

    /// <summary>The span count in the high bits, random tie-break bits (or zero) in the low 8.</summary>
    private static long Randomize(int count, IDeterministicRandom? random) =>
        ((long)count << RandomBits) | (random is null ? 0L : random.Next(1 << RandomBits));
}
