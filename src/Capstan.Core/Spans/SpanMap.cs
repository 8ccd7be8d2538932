namespace Capstan.Core.Spans;

using System.Diagnostics.CodeAnalysis;

/// <summary>
/// A map from <see cref="Span"/> to a value with ordered iteration and range queries.
/// </summary>
/// <remarks>
/// <para>
/// The entries live in one sorted array; there is no hash table over all of them (it cost more
/// memory per entry than the array itself). Changes since the last merge wait in small side
/// tables — keys added, keys removed, values replaced — and are merged into a new sorted array
/// lazily, by a single pass, the first time ordered access follows them; a steady-state poll that
/// changes no keys costs no sorting and no allocation.
/// </para>
/// <para>
/// Lookups check the side tables (when not empty) and binary-search the array; walks in span
/// order use <see cref="TryGetValue(Span, ref SpanMapCursor, out TValue)"/>, which costs one or
/// a few comparisons per key. The spans returned by <see cref="Ordered"/> and
/// <see cref="Range"/> are snapshots: changing the map while iterating one is allowed and does
/// not affect it.
/// </para>
/// </remarks>
public sealed class SpanMap<TValue>
{
    /// <summary>Side tables above this capacity are released after a merge (an owner fail-over rebuild adds every span at once).</summary>
    private const int KeptScratchCapacity = 1024;

    /// <summary>Sorted entries as of the last merge; never changed in place (handed out as snapshots).</summary>
    private KeyValuePair<Span, TValue>[] _ordered = [];

    /// <summary>Keys not in <see cref="_ordered"/>, added since the last merge.</summary>
    private Dictionary<Span, TValue> _added = [];

    /// <summary>Keys of <see cref="_ordered"/> removed since the last merge.</summary>
    private HashSet<Span> _removed = [];

    /// <summary>New values of keys of <see cref="_ordered"/> (not removed), replaced since the last merge.</summary>
    private Dictionary<Span, TValue> _replaced = [];

    /// <summary>Creates an empty map.</summary>
    /// <param name="capacity">Ignored (kept for source compatibility): the sorted array is sized by each merge.</param>
    public SpanMap(int capacity = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
    }

    /// <summary>Number of entries.</summary>
    public int Count => _ordered.Length - _removed.Count + _added.Count;

    /// <summary>Incremented whenever a key is added or removed (not when a value is replaced); lets callers cache derived data.</summary>
    public long KeyVersion { get; private set; }

    /// <summary>True when changes wait to be merged into the sorted array.</summary>
    private bool HasPending => _added.Count != 0 || _removed.Count != 0 || _replaced.Count != 0;

    /// <summary>Looks up a span (a binary search: O(log n) comparisons).</summary>
    public bool TryGetValue(Span span, [MaybeNullWhen(false)] out TValue value)
    {
        var cursor = default(SpanMapCursor);
        return TryGetValue(span, ref cursor, out value);
    }

    /// <summary>
    /// Looks up a span during a walk in ascending span order (the statuses of a heartbeat response,
    /// the current spans of the reconciler): the lookup first tries the entry one stride after the
    /// previous hit (keys spread evenly, e.g. one capture's share of round-robin placed tables,
    /// are found with one comparison), then gallops forward from there. Start a walk with a
    /// default <paramref name="cursor"/>; each lookup moves it. Keys in any order give the same
    /// answers, only slower; changes of the map during the walk are seen.
    /// </summary>
    public bool TryGetValue(Span span, ref SpanMapCursor cursor, [MaybeNullWhen(false)] out TValue value)
    {
        if (HasPending)
        {
            if (_added.Count != 0 && _added.TryGetValue(span, out value))
            {
                return true;
            }

            if (_removed.Count != 0 && _removed.Contains(span))
            {
                value = default;
                return false;
            }
        }

        int index = Find(_ordered, span, ref cursor);
        if (index < 0)
        {
            value = default;
            return false;
        }

        value = _replaced.Count != 0 && _replaced.TryGetValue(span, out var replaced) ? replaced : _ordered[index].Value;
        return true;
    }

    /// <summary>
    /// The position of <paramref name="span"/> in <paramref name="ordered"/> (a snapshot from
    /// <see cref="Ordered"/>), or −1 when absent, for a walk in span order as
    /// <see cref="TryGetValue(Span, ref SpanMapCursor, out TValue)"/> does.
    /// </summary>
    public static int IndexOf(ReadOnlySpan<KeyValuePair<Span, TValue>> ordered, Span span, ref SpanMapCursor cursor) =>
        Find(ordered, span, ref cursor);

    /// <summary>True when the span is present.</summary>
    public bool ContainsKey(Span span) => TryGetValue(span, out _);

    /// <summary>Inserts or replaces the value for a span.</summary>
    public void Set(Span span, TValue value)
    {
        if (_added.ContainsKey(span))
        {
            _added[span] = value;
            return;
        }

        var cursor = default(SpanMapCursor);
        if (Find(_ordered, span, ref cursor) < 0)
        {
            _added[span] = value;
            KeyVersion++;
            return;
        }

        if (_removed.Remove(span))
        {
            KeyVersion++; // removed and added again since the last merge
        }

        _replaced[span] = value;
    }

    /// <summary>Removes a span; returns false when absent.</summary>
    public bool Remove(Span span)
    {
        if (_added.Remove(span))
        {
            KeyVersion++;
            return true;
        }

        var cursor = default(SpanMapCursor);
        if (Find(_ordered, span, ref cursor) < 0 || !_removed.Add(span))
        {
            return false;
        }

        _replaced.Remove(span);
        KeyVersion++;
        return true;
    }

    /// <summary>Removes everything.</summary>
    public void Clear()
    {
        KeyVersion++;
        _ordered = [];
        _added = [];
        _removed = [];
        _replaced = [];
    }

    /// <summary>All entries in span order (a snapshot).</summary>
    public ReadOnlySpan<KeyValuePair<Span, TValue>> Ordered()
    {
        EnsureOrdered();
        return _ordered;
    }

    /// <summary>Entries whose key is in [start, end), in span order (a snapshot).</summary>
    public ReadOnlySpan<KeyValuePair<Span, TValue>> Range(Span start, Span end)
    {
        EnsureOrdered();
        int from = LowerBound(_ordered, start, 0, _ordered.Length);
        int to = LowerBound(_ordered, end, 0, _ordered.Length);
        return to > from ? _ordered.AsSpan(from, to - from) : [];
    }

    /// <summary>Makes room for <paramref name="count"/> entries added before the next merge (e.g. by a rebuild).</summary>
    public void EnsureCapacity(int count) => _added.EnsureCapacity(count);

    /// <summary>The index of <paramref name="span"/> in <see cref="_ordered"/>, or −1; moves the cursor on a hit.</summary>
    private static int Find(ReadOnlySpan<KeyValuePair<Span, TValue>> entries, Span span, ref SpanMapCursor cursor)
    {
        int previous = cursor.Next - 1;
        int index = previous + cursor.Stride;
        if (cursor.Stride <= 0 || (uint)index >= (uint)entries.Length || !entries[index].Key.Equals(span))
        {
            index = Seek(entries, span, cursor.Next);
            if (index >= entries.Length || !entries[index].Key.Equals(span))
            {
                cursor = new SpanMapCursor(index, 0);
                return -1;
            }
        }

        cursor = new SpanMapCursor(index + 1, previous >= 0 ? index - previous : 0);
        return index;
    }

    /// <summary>
    /// The first index whose key is ≥ <paramref name="key"/>. When everything before
    /// <paramref name="hint"/> is smaller, searches forward from it by doubling steps (a key a few
    /// entries ahead costs a few comparisons); otherwise binary-searches the prefix.
    /// </summary>
    private static int Seek(ReadOnlySpan<KeyValuePair<Span, TValue>> entries, Span key, int hint)
    {
        int count = entries.Length;
        hint = Math.Min(hint, count);
        if (hint > 0 && entries[hint - 1].Key.CompareTo(key) >= 0)
        {
            return LowerBound(entries, key, 0, hint);
        }

        if (hint == count || entries[hint].Key.CompareTo(key) >= 0)
        {
            return hint;
        }

        // entries[low] < key; double the step until entries[high] >= key or the end.
        int low = hint;
        int step = 1;
        int high = hint + step;
        while (high < count && entries[high].Key.CompareTo(key) < 0)
        {
            low = high;
            step <<= 1;
            high = hint + step;
        }

        return LowerBound(entries, key, low + 1, Math.Min(high, count));
    }

    /// <summary>Lower bound of <paramref name="key"/> in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    private static int LowerBound(ReadOnlySpan<KeyValuePair<Span, TValue>> entries, Span key, int low, int high)
    {
        while (low < high)
        {
            int mid = (low + high) >>> 1;
            if (entries[mid].Key.CompareTo(key) < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    /// <summary>Merges the side tables into a new sorted array (the old one stays valid for whoever holds it).</summary>
    private void EnsureOrdered()
    {
        if (!HasPending)
        {
            return;
        }

        var added = new KeyValuePair<Span, TValue>[_added.Count];
        int count = 0;
        foreach (var entry in _added)
        {
            added[count++] = entry;
        }

        Array.Sort(added, static (a, b) => a.Key.CompareTo(b.Key));
        var old = _ordered;
        var merged = new KeyValuePair<Span, TValue>[Count];
        int i = 0;
        int j = 0;
        int k = 0;
        while (i < old.Length || j < added.Length)
        {
            if (j >= added.Length || (i < old.Length && old[i].Key.CompareTo(added[j].Key) < 0))
            {
                var entry = old[i++];
                if (_removed.Count != 0 && _removed.Contains(entry.Key))
                {
                    continue;
                }

                merged[k++] = _replaced.Count != 0 && _replaced.TryGetValue(entry.Key, out var value)
                    ? new KeyValuePair<Span, TValue>(entry.Key, value)
                    : entry;
            }
            else
            {
                merged[k++] = added[j++];
            }
        }

        if (k != merged.Length)
        {
            throw new InvalidOperationException($"SpanMap merge produced {k} entries for {merged.Length} keys.");
        }

        _ordered = merged;
        ClearScratch();
    }

    /// <summary>Empties the side tables, releasing a large capacity rather than keeping it for the life of the map.</summary>
    private void ClearScratch()
    {
        if (_added.EnsureCapacity(0) > KeptScratchCapacity)
        {
            _added = [];
        }
        else
        {
            _added.Clear();
        }

        if (_removed.EnsureCapacity(0) > KeptScratchCapacity)
        {
            _removed = [];
        }
        else
        {
            _removed.Clear();
        }

        if (_replaced.EnsureCapacity(0) > KeptScratchCapacity)
        {
            _replaced = [];
        }
        else
        {
            _replaced.Clear();
        }
    }
}

/// <summary>
/// Where a walk through a <see cref="SpanMap{TValue}"/> in span order stands: the position after
/// the last hit and the distance between the last two hits. Start with the default value.
/// </summary>
public readonly record struct SpanMapCursor
{
    internal SpanMapCursor(int next, int stride)
    {
        Next = next;
        Stride = stride;
    }

    /// <summary>The position after the last hit (where the next search starts).</summary>
    public int Next { get; }

    /// <summary>The distance between the last two hits (0 when unknown); the next lookup tries it first.</summary>
    public int Stride { get; }
}
