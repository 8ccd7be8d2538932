namespace Capstan.Core.Scheduling;

using System.Buffers;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

/// <summary>
/// One greedy plan of <see cref="LoadBalanceMoves"/> (see there for the rules). Used once, then
/// <see cref="Release"/>d.
/// </summary>
/// <remarks>
/// The movable spans are kept in one pooled array of sort keys, bucketed per capture:
/// <c>key = weight · stride + position in span order</c>, so a sorted bucket is ordered by weight,
/// then span order, and the best span for a gap is found by binary search. Buckets are sorted
/// only when their capture first gives a span away. Moved spans are unlinked with two
/// path-compressed "next alive" arrays, so finding a live neighbour stays cheap after many moves.
/// </remarks>
internal sealed class LoadPlanner
{
    /// <summary>Capture loads, updated as the plan moves spans.</summary>
    private readonly long[] _loads;

    /// <summary>Bucket of capture c is [<c>_bucketStart[c]</c>, <c>_bucketStart[c + 1]</c>).</summary>
    private readonly int[] _bucketStart;

    /// <summary>Buckets already sorted.</summary>
    private readonly bool[] _sorted;

    /// <summary>Captures set aside: none of their spans can lower their load any more.</summary>
    private readonly bool[] _exhausted;

    /// <summary>Multiplier of the weight in a sort key: the number of sets.</summary>
    private readonly long _stride;

    /// <summary>Number of movable spans (used length of the pooled arrays).</summary>
    private readonly int _count;

    /// <summary>Sort keys of the movable spans (pooled).</summary>
    private long[] _keys;

    /// <summary>_right[p] leads to the first live position ≥ p (p itself when live); _right[_count] is the end.</summary>
    private int[] _right;

    /// <summary>_left[p + 1] leads to the last live position ≤ p, plus one; _left[0] is the start.</summary>
    private int[] _left;

    /// <summary>Planned steps: (key position, destination capture), in order.</summary>
    private readonly List<(int Position, int Destination)> _steps = [];

    /// <summary>Prepares a plan over <paramref name="loads"/> (copied) with the given movable spans per capture.</summary>
    public LoadPlanner(long[] loads, int[] candidateCounts, int setCount)
    {
        _loads = (long[])loads.Clone();
        _bucketStart = new int[loads.Length + 1];
        for (int c = 0; c < candidateCounts.Length; c++)
        {
            _bucketStart[c + 1] = _bucketStart[c] + candidateCounts[c];
        }

        _count = _bucketStart[loads.Length];
        _sorted = new bool[loads.Length];
        _exhausted = new bool[loads.Length];
        _stride = Math.Max(1, setCount);
        _keys = ArrayPool<long>.Shared.Rent(Math.Max(1, _count));
        _right = ArrayPool<int>.Shared.Rent(_count + 1);
        _left = ArrayPool<int>.Shared.Rent(_count + 1);
        for (int p = 0; p <= _count; p++)
        {
            _right[p] = p;
            _left[p] = p;
        }
    }

    /// <summary>The capture loads after the planned moves.</summary>
    public long[] Loads => _loads;

    /// <summary>Puts every movable span into its capture's bucket (the same selection as the counting pass).</summary>
    public void Fill(ReadOnlySpan<KeyValuePair<Span, ReplicationSet>> ordered, CaptureIndex index, MoveCooldown? cooldown, long tick)
    {
        var next = (int[])_bucketStart.Clone();
        for (int position = 0; position < ordered.Length; position++)
        {
            var (span, set) = ordered[position];
            if (!LoadBalanceMoves.IsMovable(span, set, cooldown, tick))
            {
                continue;
            }

            int capture = LoadBalanceMoves.CountsOn(set, index);
            if (capture >= 0)
            {
                _keys[next[capture]++] = LoadBalanceMoves.WeightOf(set) * _stride + position;
            }
        }

        for (int c = 0; c < _loads.Length; c++)
        {
            if (next[c] != _bucketStart[c + 1])
            {
                throw new InvalidOperationException($"load plan: capture {c} has {next[c] - _bucketStart[c]} movable spans, counted {_bucketStart[c + 1] - _bucketStart[c]}");
            }
        }
    }

    /// <summary>Runs the greedy plan to its end or <see cref="LoadBalanceMoves.MaxPlanSteps"/> moves.</summary>
    public void Run()
    {
        while (_steps.Count < LoadBalanceMoves.MaxPlanSteps)
        {
            int destination = ArgMin();
            int source = ArgMaxNotExhausted();
            if (source < 0)
            {
                break;
            }

            long gap = _loads[source] - _loads[destination];
            if (gap < 2)
            {
                break; // a move needs a weight w with 1 ≤ w < gap
            }

            int position = BestCandidate(source, gap);
            if (position < 0)
            {
                _exhausted[source] = true;
                continue;
            }

            long weight = _keys[position] / _stride;
            _loads[source] -= weight;
            _loads[destination] += weight;
            Unlink(position);
            _steps.Add((position, destination));
        }
    }

    /// <summary>Appends the first <paramref name="limit"/> planned moves.</summary>
    public void Emit(
        ReadOnlySpan<KeyValuePair<Span, ReplicationSet>> ordered, CaptureId[] captureIds, int limit, string scheduler, List<MoveTableTask> moves)
    {
        for (int i = 0; i < _steps.Count && i < limit; i++)
        {
            var (position, destination) = _steps[i];
            var span = ordered[(int)(_keys[position] % _stride)].Key;
            moves.Add(new MoveTableTask(span, captureIds[destination]) { Scheduler = scheduler });
        }
    }

    /// <summary>Returns the pooled arrays.</summary>
    public void Release()
    {
        ArrayPool<long>.Shared.Return(_keys);
        ArrayPool<int>.Shared.Return(_right);
        ArrayPool<int>.Shared.Return(_left);
        _keys = [];
        _right = [];
        _left = [];
    }

    /// <summary>
    /// The live span of <paramref name="source"/> that best lowers the larger of the two loads for
    /// this gap: weight closest to gap / 2 and below gap; ties the lighter, then the first in span
    /// order. −1 when none fits.
    /// </summary>
    private int BestCandidate(int source, long gap)
    {
        int start = _bucketStart[source];
        int end = _bucketStart[source + 1];
        if (start == end)
        {
            return -1;
        }

        EnsureSorted(source, start, end);
        long half = gap / 2;
        int split = half >= LoadBalanceMoves.MaxWeight ? end : LowerBound(start, end, (half + 1) * _stride);

        int upper = NextLive(split);
        if (upper >= end || _keys[upper] / _stride >= gap)
        {
            upper = -1; // heavier than half the gap: lowers the source by gap − w
        }

        int lower = PreviousLive(split - 1);
        if (lower < start)
        {
            lower = -1; // at most half the gap: lowers the source by w
        }
        else
        {
            lower = NextLive(LowerBound(start, end, _keys[lower] / _stride * _stride)); // first of that weight
        }

        if (lower < 0)
        {
            return upper;
        }

        return upper < 0 || _keys[lower] / _stride >= gap - (_keys[upper] / _stride) ? lower : upper;
    }

    private void EnsureSorted(int capture, int start, int end)
    {
        if (!_sorted[capture])
        {
            Array.Sort(_keys, start, end - start);
            _sorted[capture] = true;
        }
    }

    /// <summary>First position in [start, end) whose key is ≥ <paramref name="key"/> (end when none).</summary>
    private int LowerBound(int start, int end, long key)
    {
        int low = start;
        int high = end;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (_keys[middle] < key)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    /// <summary>The first live position ≥ p (<see cref="_count"/> when none).</summary>
    private int NextLive(int p)
    {
        while (_right[p] != p)
        {
            _right[p] = _right[_right[p]];
            p = _right[p];
        }

        return p;
    }

    /// <summary>The last live position ≤ p (−1 when none).</summary>
    private int PreviousLive(int p)
    {
        int slot = p + 1;
        while (_left[slot] != slot)
        {
            _left[slot] = _left[_left[slot]];
            slot = _left[slot];
        }

        return slot - 1;
    }

    private void Unlink(int position)
    {
        _right[position] = position + 1;
        _left[position + 1] = position;
    }

    private int ArgMin()
    {
        int best = 0;
        for (int c = 1; c < _loads.Length; c++)
        {
            if (_loads[c] < _loads[best])
            {
                best = c;
            }
        }

        return best;
    }

    private int ArgMaxNotExhausted()
    {
        int best = -1;
        for (int c = 0; c < _loads.Length; c++)
        {
            if (!_exhausted[c] && (best < 0 || _loads[c] > _loads[best]))
            {
                best = c;
            }
        }

        return best;
    }
}
